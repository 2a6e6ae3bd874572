import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER } from "@wyolo/contracts";
import type { Db } from "@wyolo/db";
import { openSecret, parseSecretsKey } from "@wyolo/db/secret-box";
import { checkTarget, type AllowList } from "@wyolo/db/webhook-target";
import type { DeliveryPayload } from "@wyolo/db/webhook-outbox";
import type { Logger } from "../logger.ts";
import { signatureHeader, slackMessage, withAbsoluteLinks } from "./message.ts";
import { postPinned, type PostResult } from "./post.ts";

export type DeliveryDeps = {
  db: Db;
  log: Logger;
  workerName: string;
  secretsKey: string | undefined;
  allow: AllowList;
  dashboardUrl: string;
  timeoutMs: number;
  retry: { baseMs: number; maxMs: number; windowMs: number };
  /** Seams for tests of the decision alone; the real check and POST by default. */
  check?: typeof checkTarget;
  post?: typeof postPinned;
};

/** Wait before attempt `attempts + 1`, after `attempts` failed ones: base × 2^(attempts − 1), capped. */
export function retryDelayMs(attempts: number, retry: DeliveryDeps["retry"]): number {
  return Math.min(retry.maxMs, retry.baseMs * 2 ** Math.max(0, attempts - 1));
}

const USER_AGENT = "Wyolo-Webhooks/1";

/**
 * One attempt of one delivery. The row is claimed first (attempts n → n+1, its next attempt
 * pushed past this one's timeout), so an attempt runs once however often it was queued; the
 * outcome is written to the row: SUCCEEDED on a 2xx, else PENDING with the next attempt after the
 * backoff, or FAILED once the retry window is spent or the target is refused by the SSRF guard.
 */
export async function deliverWebhook(
  deliveryId: string,
  attempts: number,
  deps: DeliveryDeps,
): Promise<"stale" | "SUCCEEDED" | "PENDING" | "FAILED"> {
  const now = new Date();
  const { count } = await deps.db.webhookDelivery.updateMany({
    where: { id: deliveryId, status: "PENDING", attempts, nextAttemptAt: { lte: now } },
    data: { attempts: attempts + 1, nextAttemptAt: new Date(now.getTime() + deps.timeoutMs + 60_000) },
  });
  if (count === 0) return "stale";
  const row = await deps.db.webhookDelivery.findUniqueOrThrow({
    where: { id: deliveryId },
    select: {
      id: true,
      event: true,
      payload: true,
      createdAt: true,
      webhook: { select: { id: true, kind: true, enabled: true, urlEncrypted: true, secretEncrypted: true } },
    },
  });
  const attempt = attempts + 1;
  const log = deps.log.child({ deliveryId, webhookId: row.webhook.id, event: row.event, attempt });

  const { result, final } = await attemptOnce(row, deps);
  const code = "status" in result ? result.status : null;
  const ok = code !== null && code >= 200 && code < 300;
  const error =
    "error" in result ? result.error : ok ? null : `HTTP ${code}${code! >= 300 && code! < 400 ? " (redirects are not followed)" : ""}`;
  const nextAt = new Date(Date.now() + retryDelayMs(attempt, deps.retry));
  const status = ok ? "SUCCEEDED" : final || nextAt.getTime() > row.createdAt.getTime() + deps.retry.windowMs ? "FAILED" : "PENDING";
  await deps.db.webhookDelivery.update({
    where: { id: deliveryId },
    data: {
      status,
      nextAttemptAt: status === "PENDING" ? nextAt : new Date(),
      lastStatusCode: code,
      durationMs: result.durationMs,
      responseSnippet: "snippet" in result ? result.snippet : null,
      error,
      deliveredAt: ok ? new Date() : null,
    },
  });
  if (ok) log.info({ status: code, ms: result.durationMs }, "webhook delivered");
  else log.warn({ outcome: status, error }, "webhook attempt failed");
  return status;
}

type Row = {
  id: string;
  event: string;
  payload: unknown;
  webhook: { kind: "GENERIC" | "SLACK"; enabled: boolean; urlEncrypted: string; secretEncrypted: string | null };
};

/** `final`: no later attempt can go better (the target is refused, the webhook is disabled). */
async function attemptOnce(row: Row, deps: DeliveryDeps): Promise<{ result: PostResult; final: boolean }> {
  const fail = (error: string, final = false) => ({ result: { error, durationMs: 0 }, final });
  if (!row.webhook.enabled && row.event !== "ping") return fail("The webhook is disabled", true);
  const key = deps.secretsKey ? parseSecretsKey(deps.secretsKey) : null;
  if (!key || "problem" in key) return fail(`SECRETS_KEY is not set on worker ${deps.workerName}: it cannot read the webhook's URL`);
  let url: string;
  let secret: string | null;
  try {
    url = openSecret(key.key, row.webhook.urlEncrypted);
    secret = row.webhook.secretEncrypted ? openSecret(key.key, row.webhook.secretEncrypted) : null;
  } catch {
    return fail(`The webhook's secrets do not open with worker ${deps.workerName}'s SECRETS_KEY (another key than the web app's?)`);
  }
  const checked = await (deps.check ?? checkTarget)(url, deps.allow);
  if (!checked.ok) return fail(`Refused: ${checked.reason}`, !checked.unresolved);
  const payload = withAbsoluteLinks(row.payload as DeliveryPayload, deps.dashboardUrl);
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": USER_AGENT };
  let body: string;
  if (row.webhook.kind === "SLACK") {
    body = JSON.stringify(slackMessage(payload));
  } else {
    body = JSON.stringify(payload);
    headers[EVENT_HEADER] = row.event;
    headers[DELIVERY_HEADER] = row.id;
    if (secret) headers[SIGNATURE_HEADER] = signatureHeader(secret, body);
  }
  return { result: await (deps.post ?? postPinned)(checked.target, body, headers, deps.timeoutMs), final: false };
}
