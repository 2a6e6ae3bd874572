import "server-only";
import { checkTarget } from "@wyolo/db/webhook-target";
import { env } from "@/env";
import { AppError } from "../errors";
import { withTimeout } from "../timeout";

/**
 * The SSRF guard at create/update time: a URL whose host is (or resolves to) a refused address is
 * a field error. A name that does not resolve now is accepted: every delivery checks again.
 */
export async function checkWebhookUrl(url: string): Promise<void> {
  const checked = await withTimeout(checkTarget(url, env.WEBHOOK_ALLOWED_HOSTS), 5_000, "webhook host lookup").catch(() => null);
  if (checked && !checked.ok && !checked.unresolved)
    throw new AppError("VALIDATION_FAILED", "This URL cannot receive webhooks", { url: [checked.reason] });
}
