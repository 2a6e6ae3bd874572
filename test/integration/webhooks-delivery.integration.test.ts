import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// The web side's env is read when its modules load: the key and the allow-list first. The
// receiver runs on 127.0.0.1, which only the allow-list lets webhooks call.
const SECRETS_KEY = vi.hoisted(() => {
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
  process.env.SECRETS_KEY = key;
  process.env.WEBHOOK_ALLOWED_HOSTS = "127.0.0.1";
  return key;
});

import { db } from "@/server/db";
import { trainingQueue } from "@/server/queue";
import { webhookQueue } from "@/server/webhooks/queue";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import * as webhooksRoute from "@/app/api/v1/teams/[teamId]/webhooks/route";
import * as testRoute from "@/app/api/v1/webhooks/[webhookId]/test/route";
import * as redeliverRoute from "@/app/api/v1/webhooks/[webhookId]/deliveries/[deliveryId]/redeliver/route";
import { call, createTeamWith, createUser, sessionCookie } from "./helpers";
import { startWorker, waitFor, type WorkerHandle } from "./worker-harness";

type Seen = { path: string; headers: http.IncomingHttpHeaders; body: string; at: number };
const seen: Seen[] = [];
/** Per path: how many times it has been called. `/fail-once` answers 500 first, `/slow-once` stays silent first. */
const calls = new Map<string, number>();
const receiver = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c: Buffer) => (body += c.toString()));
  req.on("end", () => {
    const path = req.url ?? "/";
    const n = (calls.get(path) ?? 0) + 1;
    calls.set(path, n);
    seen.push({ path, headers: req.headers, body, at: Date.now() });
    if (path === "/fail-once" && n === 1) return res.writeHead(500).end("boom: receiver error");
    if (path === "/slow-once" && n === 1) return setTimeout(() => res.writeHead(200).end("too late"), 3_000);
    if (path === "/redirect") return res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data" }).end();
    res.writeHead(200, { "content-type": "text/plain" }).end(`ok ${"x".repeat(3000)}`);
  });
});

let base: string;
let teamId: string;
let projectId: string;
let admin: string;
let worker: WorkerHandle;

async function createHook(name: string, path: string, kind: "GENERIC" | "SLACK" = "GENERIC", events = ["job.succeeded"]) {
  const res = await call(webhooksRoute.POST, { cookie: admin, params: { teamId }, body: { name, kind, url: `${base}${path}`, events } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.webhook.id as string, secret: res.body.secret as string | null };
}

async function sendTest(webhookId: string) {
  const res = await call(testRoute.POST, { cookie: admin, params: { webhookId } });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.delivery.id as string;
}

const settled = (id: string, timeoutMs = 15_000) =>
  waitFor(
    async () => {
      const row = await db.webhookDelivery.findUniqueOrThrow({ where: { id } });
      return row.status !== "PENDING" && row;
    },
    timeoutMs,
    `delivery ${id} to settle`,
  );

function verify(secret: string, header: string, body: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const expected = createHmac("sha256", secret).update(`${m[1]}.${body}`).digest("hex");
  return expected === m[2] && Math.abs(Date.now() / 1000 - Number(m[1])) < 300;
}

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const [owner, member] = [await createUser(), await createUser()];
  const team = await createTeamWith([
    { userId: owner.id, role: "ADMIN" },
    { userId: member.id, role: "MEMBER" },
  ]);
  teamId = team.id;
  projectId = (await db.project.create({ data: { teamId, name: "Shapes", slug: "shapes" } })).id;
  admin = await sessionCookie(owner);
  worker = startWorker("webhooks", {
    SECRETS_KEY,
    WEBHOOK_ALLOWED_HOSTS: "127.0.0.1",
    DASHBOARD_URL: "https://wyolo.example.com",
    WEBHOOK_TIMEOUT_MS: "1000",
    WEBHOOK_RETRY_BASE_MS: "300",
    WEBHOOK_SCAN_INTERVAL_MS: "200",
  });
  await worker.ready;
});

afterAll(async () => {
  await worker?.stop();
  await Promise.all([trainingQueue.obliterate({ force: true }), webhookQueue.obliterate({ force: true })]);
  await new Promise((resolve) => receiver.close(resolve));
});

describe("webhook deliveries through a real worker process", () => {
  it("a job that succeeds: one delivery per subscribed webhook, signed, with absolute links", async () => {
    const hook = await createHook("CI", "/jobs");
    await createHook("not subscribed", "/never", "GENERIC", ["job.failed"]);
    const res = await call(jobsRoute.POST, {
      cookie: admin,
      params: { projectId },
      body: { name: "announced", config: { model: "yolov8n.yaml", train: { data: "shapes/data.yaml", epochs: 2, imgsz: 64, batch: 4 } } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const jobId = res.body.job.id as string;
    const row = await waitFor(() => db.webhookDelivery.findFirst({ where: { webhookId: hook.id } }), 30_000, "the job's delivery");
    expect((await settled(row.id)).status).toBe("SUCCEEDED");
    // Exactly one row, for the subscribed webhook only, even after the scans that followed.
    await new Promise((r) => setTimeout(r, 600));
    expect(await db.webhookDelivery.count({ where: { webhook: { teamId } } })).toBe(1);
    const got = seen.filter((s) => s.path === "/jobs");
    expect(got).toHaveLength(1);
    const { headers, body } = got[0]!;
    expect(verify(hook.secret!, String(headers["wyolo-signature"]), body)).toBe(true);
    expect(verify("whsec_wrong", String(headers["wyolo-signature"]), body)).toBe(false);
    expect(headers["wyolo-event"]).toBe("job.succeeded");
    expect(headers["wyolo-delivery"]).toBe(row.id);
    const payload = JSON.parse(body);
    expect(payload).toMatchObject({
      event: "job.succeeded",
      job: { id: jobId, status: "SUCCEEDED", name: "announced" },
      project: { slug: "shapes" },
    });
    expect(payload.links.job).toBe(`https://wyolo.example.com/t/${payload.team.slug}/p/shapes/jobs/${jobId}`);
    const settledRow = await db.webhookDelivery.findUniqueOrThrow({ where: { id: row.id } });
    expect(settledRow).toMatchObject({ attempts: 1, lastStatusCode: 200, error: null });
    expect(settledRow.responseSnippet!.length).toBeLessThanOrEqual(1024);
    expect(settledRow.durationMs).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it("retries after a 500, with the log of each attempt", async () => {
    const hook = await createHook("flaky", "/fail-once");
    const id = await sendTest(hook.id);
    const row = await settled(id);
    expect(row).toMatchObject({ status: "SUCCEEDED", attempts: 2, lastStatusCode: 200, error: null });
    const got = seen.filter((s) => s.path === "/fail-once");
    expect(got).toHaveLength(2);
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(300);
    expect(got[0]!.headers["wyolo-event"]).toBe("ping");
  });

  it("retries after a timeout", async () => {
    const hook = await createHook("slow", "/slow-once");
    const id = await sendTest(hook.id);
    // The first attempt is recorded as a timeout before the retry succeeds.
    const failedOnce = await waitFor(async () => {
      const r = await db.webhookDelivery.findUniqueOrThrow({ where: { id } });
      return r.attempts >= 1 && r.error ? r : null;
    });
    expect(failedOnce.error).toMatch(/no answer within 1000 ms/);
    expect(failedOnce.durationMs).toBeGreaterThanOrEqual(900);
    expect(await settled(id)).toMatchObject({ status: "SUCCEEDED", attempts: 2 });
  });

  it("follows no redirect: a 3xx is a failed attempt", async () => {
    const hook = await createHook("redirects", "/redirect");
    const id = await sendTest(hook.id);
    const row = await waitFor(async () => {
      const r = await db.webhookDelivery.findUniqueOrThrow({ where: { id } });
      return r.attempts >= 1 && r.lastStatusCode ? r : null;
    });
    expect(row.lastStatusCode).toBe(302);
    expect(row.error).toMatch(/redirects are not followed/);
    expect(seen.filter((s) => s.path === "/redirect").length).toBeGreaterThanOrEqual(1);
    await db.webhook.update({ where: { id: hook.id }, data: { enabled: false } });
  });

  it("posts a formatted, unsigned message to a Slack URL", async () => {
    const hook = await createHook("Slack", "/slack", "SLACK");
    expect(hook.secret).toBeNull();
    expect((await settled(await sendTest(hook.id))).status).toBe("SUCCEEDED");
    const got = seen.find((s) => s.path === "/slack")!;
    expect(got.headers["wyolo-signature"]).toBeUndefined();
    const message = JSON.parse(got.body);
    expect(Object.keys(message).sort()).toEqual(["blocks", "text"]);
    expect(message.text).toMatch(/test message/);
    expect(message.blocks[0]).toMatchObject({ type: "section", text: { type: "mrkdwn" } });
    expect(message.blocks.at(-1)).toMatchObject({ type: "context" });
  });

  it("redelivers a delivery: same payload, a new row pointing at the first", async () => {
    const hook = await createHook("again", "/again");
    const first = await settled(await sendTest(hook.id));
    const res = await call(redeliverRoute.POST, { cookie: admin, params: { webhookId: hook.id, deliveryId: first.id } });
    expect(res.status).toBe(202);
    const second = await settled(res.body.delivery.id);
    expect(second).toMatchObject({ status: "SUCCEEDED", redeliveryOfId: first.id });
    const bodies = seen.filter((s) => s.path === "/again").map((s) => JSON.parse(s.body));
    expect(bodies).toHaveLength(2);
    expect(bodies[1].id).toBe(bodies[0].id);
    expect(seen.filter((s) => s.path === "/again")[1]!.headers["wyolo-delivery"]).toBe(second.id);
  });
});
