import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// No WEBHOOK_ALLOWED_HOSTS here: loopback, private and metadata addresses are all refused.
const SECRETS_KEY = vi.hoisted(() => {
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
  process.env.SECRETS_KEY = key;
  delete process.env.WEBHOOK_ALLOWED_HOSTS;
  return key;
});

import { newId } from "@wyolo/db";
import { openSecret, parseSecretsKey, type SecretsKey } from "@wyolo/db/secret-box";
import { EMPTY_ALLOW_LIST } from "@wyolo/db/webhook-target";
import { db } from "@/server/db";
import { seal } from "@/server/webhooks/secrets";
import { webhookQueue } from "@/server/webhooks/queue";
import * as teamHooks from "@/app/api/v1/teams/[teamId]/webhooks/route";
import * as hookRoute from "@/app/api/v1/webhooks/[webhookId]/route";
import * as testRoute from "@/app/api/v1/webhooks/[webhookId]/test/route";
import * as rotateRoute from "@/app/api/v1/webhooks/[webhookId]/rotate-secret/route";
import * as deliveriesRoute from "@/app/api/v1/webhooks/[webhookId]/deliveries/route";
import * as redeliverRoute from "@/app/api/v1/webhooks/[webhookId]/deliveries/[deliveryId]/redeliver/route";
import { deliverWebhook } from "../../worker/src/webhooks/deliver-webhook";
import { createLogger } from "../../worker/src/logger";
import { call, createTeamWith, createUser, sessionCookie } from "../../../test/integration/helpers";

const key = (parseSecretsKey(SECRETS_KEY) as { key: SecretsKey }).key;
let teamId: string;
let otherTeamId: string;
let admin: string;
let member: string;
let outsider: string;
let receiverHits = 0;
const receiver = http.createServer((_req, res) => {
  receiverHits++;
  res.end("ok");
});
let port: number;

const body = (over: Record<string, unknown> = {}) => ({
  name: "CI",
  url: "https://hooks.example.com/wyolo?token=abc",
  events: ["job.succeeded", "job.failed"],
  ...over,
});

async function create(over: Record<string, unknown> = {}) {
  const res = await call(teamHooks.POST, { cookie: admin, params: { teamId }, body: body(over) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { webhook: { id: string; url: string; signed: boolean }; secret: string | null };
}

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  port = (receiver.address() as AddressInfo).port;
  const [a, m, o] = [await createUser(), await createUser(), await createUser()];
  teamId = (
    await createTeamWith([
      { userId: a.id, role: "ADMIN" },
      { userId: m.id, role: "MEMBER" },
    ])
  ).id;
  otherTeamId = (await createTeamWith([{ userId: o.id, role: "OWNER" }])).id;
  [admin, member, outsider] = await Promise.all([sessionCookie(a), sessionCookie(m), sessionCookie(o)]);
  // No worker consumes this file's queue: deliveries stay PENDING unless a test delivers them.
  await webhookQueue.pause();
});

afterAll(async () => {
  await webhookQueue.obliterate({ force: true });
  await new Promise((resolve) => receiver.close(resolve));
});

describe("webhooks API", () => {
  it("creates a signed webhook: the secret once, the URL and secret sealed at rest, the audit without them", async () => {
    const { webhook, secret } = await create();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(webhook).toMatchObject({ url: "https://hooks.example.com/…", signed: true, kind: "GENERIC", enabled: true });
    const row = await db.webhook.findUniqueOrThrow({ where: { id: webhook.id } });
    expect(row.urlEncrypted).not.toContain("hooks.example.com");
    expect(openSecret(key, row.urlEncrypted)).toBe("https://hooks.example.com/wyolo?token=abc");
    expect(openSecret(key, row.secretEncrypted!)).toBe(secret);
    const list = await call(teamHooks.GET, { cookie: admin, params: { teamId } });
    expect(list.status).toBe(200);
    const text = JSON.stringify(list.body);
    expect(text).not.toContain(secret!);
    expect(text).not.toContain("token=abc");
    const got = await call(hookRoute.GET, { cookie: admin, params: { webhookId: webhook.id } });
    expect(JSON.stringify(got.body)).not.toContain(secret!);
    const audit = await db.auditLog.findFirstOrThrow({ where: { action: "webhook.create", targetId: webhook.id } });
    expect(JSON.stringify(audit.metadata)).not.toContain("token=abc");
  });

  it("a Slack webhook has no secret", async () => {
    const { webhook, secret } = await create({ kind: "SLACK", url: "https://hooks.slack.com/services/T0/B0/xyz" });
    expect(secret).toBeNull();
    expect(webhook.signed).toBe(false);
    expect(webhook.url).toBe("https://hooks.slack.com/…");
  });

  it("answers bad input with field messages", async () => {
    for (const [over, field] of [
      [{ url: "ftp://example.com/x" }, "url"],
      [{ url: "not a url" }, "url"],
      [{ events: [] }, "events"],
      [{ events: ["job.exploded"] }, "events.0"],
      [{ name: "" }, "name"],
      [{ kind: "TEAMS" }, "kind"],
    ] as const) {
      const res = await call(teamHooks.POST, { cookie: admin, params: { teamId }, body: body(over) });
      expect(res.status, JSON.stringify(over)).toBe(422);
      expect(res.body.error.fields[field], JSON.stringify(res.body)).toBeDefined();
    }
  });

  it("refuses loopback, private, link-local and metadata URLs at create and update (SSRF), a name resolving to loopback too", async () => {
    for (const url of [
      "http://127.0.0.1:8080/hook",
      "http://10.0.0.1/hook",
      "http://192.168.1.10/hook",
      "http://169.254.169.254/latest/meta-data/",
      "http://100.64.0.1/",
      "http://[::1]/hook",
      "http://[::ffff:127.0.0.1]/hook",
      "http://[fd00::1]/hook",
      "http://0.0.0.0/",
      "http://localhost/hook",
    ]) {
      const res = await call(teamHooks.POST, { cookie: admin, params: { teamId }, body: body({ url }) });
      expect(res.status, url).toBe(422);
      expect(res.body.error.fields.url[0], url).toMatch(/not allowed for webhooks/);
    }
    const { webhook } = await create();
    const res = await call(hookRoute.PATCH, { cookie: admin, params: { webhookId: webhook.id }, body: { url: "http://10.1.2.3/x" } });
    expect(res.status).toBe(422);
    expect(res.body.error.fields.url).toBeDefined();
  });

  it("refuses them at delivery too: the row fails, nothing is sent", async () => {
    const deps = {
      db,
      log: createLogger("silent", "test"),
      workerName: "test",
      secretsKey: SECRETS_KEY,
      allow: EMPTY_ALLOW_LIST,
      dashboardUrl: "http://localhost:3000",
      timeoutMs: 1000,
      retry: { baseMs: 1000, maxMs: 1000, windowMs: 60_000 },
    };
    for (const url of [
      `http://127.0.0.1:${port}/hook`,
      `http://localhost:${port}/hook`,
      `http://[::ffff:127.0.0.1]:${port}/hook`,
      "http://10.0.0.1/hook",
      "http://169.254.169.254/latest/meta-data",
    ]) {
      // Written as the API would, had it been allowed then.
      const hook = await db.webhook.create({
        data: { teamId, name: url, kind: "GENERIC", urlEncrypted: seal(url), urlDisplay: url, events: ["job.succeeded"] },
      });
      const row = await db.webhookDelivery.create({
        data: { id: newId(), webhookId: hook.id, event: "ping", payload: { team: {}, links: {} } },
      });
      expect(await deliverWebhook(row.id, 0, deps), url).toBe("FAILED");
      const after = await db.webhookDelivery.findUniqueOrThrow({ where: { id: row.id } });
      expect(after.error, url).toMatch(/^Refused: .*a (loopback|private|linkLocal) address/);
      expect(after).toMatchObject({ attempts: 1, lastStatusCode: null });
      // A second run of the same attempt finds it claimed.
      expect(await deliverWebhook(row.id, 0, deps)).toBe("stale");
    }
    expect(receiverHits).toBe(0);
  });

  it("another team's webhooks are 404, a MEMBER's call is 403", async () => {
    const { webhook } = await create();
    for (const [handler, method] of [
      [hookRoute.GET, "GET"],
      [hookRoute.PATCH, "PATCH"],
      [hookRoute.DELETE, "DELETE"],
      [testRoute.POST, "POST"],
      [rotateRoute.POST, "POST"],
      [deliveriesRoute.GET, "GET"],
    ] as const) {
      const res = await call(handler, {
        method,
        cookie: outsider,
        params: { webhookId: webhook.id },
        body: method === "PATCH" ? { name: "x" } : undefined,
      });
      expect(res.status, `${method} outsider`).toBe(404);
      const asMember = await call(handler, {
        method,
        cookie: member,
        params: { webhookId: webhook.id },
        body: method === "PATCH" ? { name: "x" } : undefined,
      });
      expect(asMember.status, `${method} member`).toBe(403);
    }
    expect((await call(teamHooks.GET, { cookie: outsider, params: { teamId } })).status).toBe(404);
    expect((await call(teamHooks.GET, { cookie: member, params: { teamId } })).status).toBe(403);
    expect((await call(teamHooks.GET, { cookie: outsider, params: { teamId: otherTeamId } })).status).toBe(200);
    const redeliver = await call(redeliverRoute.POST, { cookie: outsider, params: { webhookId: webhook.id, deliveryId: "nope" } });
    expect(redeliver.status).toBe(404);
  });

  it("send test, the delivery log a page at a time, redeliver, rotate, update, delete", async () => {
    const { webhook, secret } = await create();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(testRoute.POST, { cookie: admin, params: { webhookId: webhook.id } });
      expect(res.status).toBe(202);
      expect(res.body.delivery).toMatchObject({ event: "ping", status: "PENDING", attempts: 0 });
      ids.push(res.body.delivery.id);
    }
    expect(await webhookQueue.getJob(`${ids[0]}-a0`)).toBeDefined();
    const page1 = await call(deliveriesRoute.GET, { cookie: admin, params: { webhookId: webhook.id }, query: "limit=2" });
    expect(page1.body.deliveries.map((d: { id: string }) => d.id)).toEqual([ids[2], ids[1]]);
    const page2 = await call(deliveriesRoute.GET, {
      cookie: admin,
      params: { webhookId: webhook.id },
      query: `limit=2&cursor=${page1.body.nextCursor}`,
    });
    expect(page2.body.deliveries.map((d: { id: string }) => d.id)).toEqual([ids[0]]);
    expect(page2.body.nextCursor).toBeNull();
    expect((await call(deliveriesRoute.GET, { cookie: admin, params: { webhookId: webhook.id }, query: "limit=0" })).status).toBe(422);

    const again = await call(redeliverRoute.POST, { cookie: admin, params: { webhookId: webhook.id, deliveryId: ids[0]! } });
    expect(again.status).toBe(202);
    expect(again.body.delivery).toMatchObject({ redeliveryOfId: ids[0], status: "PENDING" });
    const otherHook = await create();
    const foreign = await call(redeliverRoute.POST, { cookie: admin, params: { webhookId: otherHook.webhook.id, deliveryId: ids[0]! } });
    expect(foreign.status).toBe(404);

    const rotated = await call(rotateRoute.POST, { cookie: admin, params: { webhookId: webhook.id } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(secret);

    const patched = await call(hookRoute.PATCH, {
      cookie: admin,
      params: { webhookId: webhook.id },
      body: { enabled: false, events: ["sweep.completed"], url: "https://other.example.com/" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.webhook).toMatchObject({ enabled: false, events: ["sweep.completed"], url: "https://other.example.com" });
    expect(patched.body.secret).toBeNull();

    const slack = await call(hookRoute.PATCH, { cookie: admin, params: { webhookId: webhook.id }, body: { kind: "SLACK" } });
    expect(slack.body.webhook.signed).toBe(false);
    // An edit changes only what it names: renaming keeps it disabled, toggling keeps it Slack.
    const renamed = await call(hookRoute.PATCH, { cookie: admin, params: { webhookId: webhook.id }, body: { name: "Renamed" } });
    expect(renamed.body.webhook).toMatchObject({ name: "Renamed", enabled: false, kind: "SLACK" });
    const toggled = await call(hookRoute.PATCH, { cookie: admin, params: { webhookId: webhook.id }, body: { enabled: true } });
    expect(toggled.body.webhook).toMatchObject({ enabled: true, kind: "SLACK", signed: false });
    expect((await call(rotateRoute.POST, { cookie: admin, params: { webhookId: webhook.id } })).status).toBe(409);
    const generic = await call(hookRoute.PATCH, { cookie: admin, params: { webhookId: webhook.id }, body: { kind: "GENERIC" } });
    expect(generic.body.secret).toMatch(/^whsec_/);

    const del = await call(hookRoute.DELETE, { cookie: admin, params: { webhookId: webhook.id } });
    expect(del.status).toBe(204);
    expect(await db.webhookDelivery.count({ where: { webhookId: webhook.id } })).toBe(0);
    expect((await call(hookRoute.GET, { cookie: admin, params: { webhookId: webhook.id } })).status).toBe(404);
    expect(await db.auditLog.count({ where: { targetId: webhook.id, action: { startsWith: "webhook." } } })).toBe(8);
  });
});
