import { randomBytes } from "node:crypto";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkerReport } from "@wyolo/contracts";
import type { Actor, ApiRoute, HttpMethod, World } from "./api-world";
import type { TestTokenOptions } from "./tokens-helper";
import { domainSuccess } from "./routes/index";

// Downloads sign a URL locally; no object store is contacted. Set before server modules load.
process.env.S3_ENDPOINT ??= "http://127.0.0.1:9";
process.env.S3_ACCESS_KEY_ID ??= "test-key";
process.env.S3_SECRET_ACCESS_KEY ??= "test-secret";
// Webhooks: a key for their secrets, and a loopback receiver allowed (nothing listens there: deliveries are only queued).
process.env.SECRETS_KEY ??= randomBytes(32).toString("base64");
process.env.WEBHOOK_ALLOWED_HOSTS ??= "127.0.0.1";

/**
 * Real answers of every /api/v1 route match the OpenAPI document: each route × method is called
 * through its handler (as Next.js does) with a request that succeeds, and with requests that fail
 * (signed out, an unknown id, an invalid, malformed or wrongly typed body); every status must be
 * documented for the operation and every body must validate against the documented schema — in
 * this test with no undocumented properties allowed, so a field added to an answer needs its line
 * in the document. A route without a line here fails the test.
 */

type Call = {
  as?: keyof World["actors"] | null;
  /** Call with an API token of the actor (these options) instead of the session cookie. */
  token?: TestTokenOptions;
  params?: Record<string, string>;
  body?: unknown;
  query?: string;
  yaml?: string;
};
type Prepare = (w: World) => Call | Promise<Call>;

const team = (w: World) => ({ teamId: w.team.id });
const job = (w: World) => ({ jobId: w.jobs.ended.id });
const project = (w: World) => ({ projectId: w.project.id });

const SUCCESS: Record<string, Prepare> = {
  "GET openapi.json": () => ({ as: null }),
  "GET me": () => ({}),
  "POST account/password": () => ({ body: { currentPassword: PASSWORD, newPassword: "another-long-password" } }),
  "GET config-defaults": () => ({}),
  "GET workers": () => ({}),
  "GET workers/training-options": () => ({}),
  "GET admin/users": () => ({ as: "platformAdmin" }),
  "PATCH admin/users/[userId]": (w) => ({ as: "platformAdmin", params: { userId: w.actors.peer.id }, body: { disabled: true } }),
  "POST invitations/preview": (w) => ({ as: null, body: { token: w.invitation.token } }),
  "POST invitations/accept": (w) => ({ as: "invitee", body: { token: w.invitation.token } }),
  "GET teams": () => ({}),
  "POST teams": () => ({ body: { name: "Another team" } }),
  "GET teams/[teamId]": (w) => ({ params: team(w) }),
  "PATCH teams/[teamId]": (w) => ({ params: team(w), body: { name: "Renamed team" } }),
  "DELETE teams/[teamId]": (w) => ({ params: team(w) }),
  "POST teams/[teamId]/transfer": (w) => ({ params: team(w), body: { userId: w.actors.admin.id } }),
  "GET teams/[teamId]/members": (w) => ({ params: team(w) }),
  "PATCH teams/[teamId]/members/[userId]": (w) => ({ params: { ...team(w), userId: w.actors.peer.id }, body: { role: "VIEWER" } }),
  "DELETE teams/[teamId]/members/[userId]": (w) => ({ params: { ...team(w), userId: w.actors.peer.id } }),
  "GET teams/[teamId]/invitations": (w) => ({ params: team(w) }),
  "POST teams/[teamId]/invitations": (w) => ({ params: team(w), body: { email: uniqueEmail("invited"), role: "MEMBER" } }),
  "DELETE teams/[teamId]/invitations/[invitationId]": (w) => ({ params: { ...team(w), invitationId: w.invitation.id } }),
  "GET teams/[teamId]/projects": (w) => ({ params: team(w) }),
  "POST teams/[teamId]/projects": (w) => ({ params: team(w), body: { name: "Second project", description: "more" } }),
  "GET projects/[projectId]": (w) => ({ params: project(w) }),
  "PATCH projects/[projectId]": (w) => ({ params: project(w), body: { description: "Described" } }),
  "DELETE projects/[projectId]": (w) => ({ params: { projectId: w.emptyProject.id } }),
  "GET projects/[projectId]/jobs": (w) => ({ params: project(w), query: "limit=2&status=SUCCEEDED,QUEUED" }),
  "POST projects/[projectId]/jobs": (w) => ({ params: project(w), body: { config: VALID_CONFIG, priority: "high" } }),
  "GET projects/[projectId]/sweeps": (w) => ({ params: project(w) }),
  "POST projects/[projectId]/sweeps": (w) => ({
    params: project(w),
    query: "name=yaml%20sweep",
    yaml: "model: yolo11n.pt\ntrain:\n  data: shapes/data.yaml\n  epochs: 1\nsweeper:\n  n_trials: 2\n",
  }),
  "GET jobs/[jobId]": (w) => ({ params: job(w) }),
  "POST jobs/[jobId]/cancel": (w) => ({ params: { jobId: w.jobs.peersQueued.id } }),
  "POST jobs/[jobId]/retry": (w) => ({ params: job(w) }),
  "GET jobs/[jobId]/metrics": (w) => ({ params: job(w) }),
  "GET jobs/[jobId]/logs": (w) => ({ params: job(w), query: "after=0&limit=10" }),
  "GET jobs/[jobId]/artifacts": (w) => ({ params: job(w) }),
  "GET jobs/[jobId]/artifacts/[artifactId]/download": (w) => ({ params: { ...job(w), artifactId: w.jobs.ended.artifactId } }),
  "GET jobs/[jobId]/exports": (w) => ({ params: job(w) }),
  "POST jobs/[jobId]/exports": (w) => ({ params: job(w), body: { format: "onnx", imgsz: 320 } }),
  "GET sweeps/[sweepId]": (w) => ({ params: { sweepId: w.sweeps.members.id } }),
  "POST sweeps/[sweepId]/cancel": (w) => ({ params: { sweepId: w.sweeps.members.id } }),
  "POST sweeps/[sweepId]/trials": (w) => ({ params: { sweepId: w.sweeps.peers.id }, body: { count: 2 } }),
  "POST sweeps/[sweepId]/train-best": (w) => ({ params: { sweepId: w.sweeps.peers.id } }),
  "GET account/tokens": () => ({}),
  "POST account/tokens": () => ({ body: { name: "ci", scopes: ["read", "jobs:write"], expiresInDays: 30 } }),
  "DELETE account/tokens/[tokenId]": async (w) => ({ params: { tokenId: (await made(w)).personalToken } }),
  "GET teams/[teamId]/tokens": (w) => ({ params: team(w) }),
  "POST teams/[teamId]/tokens": (w) => ({ params: team(w), body: { name: "deployer", scopes: ["read"], role: "MEMBER" } }),
  "DELETE teams/[teamId]/tokens/[tokenId]": async (w) => ({ params: { ...team(w), tokenId: (await made(w)).serviceToken } }),
  "GET teams/[teamId]/webhooks": (w) => ({ params: team(w) }),
  "POST teams/[teamId]/webhooks": (w) => ({
    params: team(w),
    body: { name: "ci", url: "http://127.0.0.1:9/hook?key=abc", events: ["job.succeeded", "job.failed"] },
  }),
  "GET webhooks/[webhookId]": async (w) => ({ params: { webhookId: (await made(w)).webhook } }),
  "PATCH webhooks/[webhookId]": async (w) => ({ params: { webhookId: (await made(w)).webhook }, body: { enabled: false } }),
  "DELETE webhooks/[webhookId]": async (w) => ({ params: { webhookId: (await made(w)).webhook } }),
  "POST webhooks/[webhookId]/rotate-secret": async (w) => ({ params: { webhookId: (await made(w)).webhook } }),
  "POST webhooks/[webhookId]/test": async (w) => ({ params: { webhookId: (await made(w)).webhook } }),
  "GET webhooks/[webhookId]/deliveries": async (w) => ({ params: { webhookId: (await made(w)).webhook }, query: "limit=5" }),
  "POST webhooks/[webhookId]/deliveries/[deliveryId]/redeliver": async (w) => {
    const { webhook, delivery } = await made(w);
    return { params: { webhookId: webhook, deliveryId: delivery } };
  },
  ...domainSuccess(),
};
/** More successful answers of another shape than the first. */
const MORE_SUCCESS: [string, Prepare][] = [
  [
    "GET jobs/[jobId]/artifacts/[artifactId]/download",
    (w) => ({ params: { ...job(w), artifactId: w.jobs.ended.artifactId }, query: "format=json" }),
  ],
  ["POST jobs/[jobId]/exports", (w) => ({ params: job(w), body: { format: "onnx", imgsz: 320 } })], // the same again: 200
  [
    "POST projects/[projectId]/jobs",
    (w) => ({ params: project(w), body: { config: { ...VALID_CONFIG, sweeper: { tune: true, n_trials: 2 } } } }),
  ],
  [
    "POST invitations/accept",
    async (w) => ({ as: null, body: { token: await newInvitation(w), name: "New Person", password: "a-long-password" } }),
  ],
  ["GET openapi.json", () => ({ as: "owner" })],
  ["GET me", () => ({ token: { scopes: ["read"] } })],
  ["GET projects/[projectId]/jobs", (w) => ({ params: project(w), token: { scopes: ["read"], teamId: w.team.id } })],
  ["POST projects/[projectId]/jobs", (w) => ({ params: project(w), body: { config: VALID_CONFIG }, token: { scopes: ["jobs:write"] } })],
  ["PATCH webhooks/[webhookId]", async (w) => ({ params: { webhookId: (await made(w)).slack }, body: { kind: "GENERIC" } })],
];

let helpers: typeof import("./api-world");
let routes: ApiRoute[];
let redis: Redis;
let doc: Record<string, any>;
let ajv: Ajv2020;
let PASSWORD: string;
let VALID_CONFIG: Record<string, unknown>;
let uniqueEmail: (prefix?: string) => string;
let newInvitation: (w: World) => Promise<string>;
const DOC_ID = "https://wyolo.invalid/openapi.json";

/** A copy of the document where no object schema allows properties it does not name. */
function closed(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closed);
  if (!node || typeof node !== "object") return node;
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, closed(v)]));
  if (out.type === "object" && out.properties && !("additionalProperties" in out)) out.additionalProperties = false;
  return out;
}

beforeAll(async () => {
  helpers = await import("./api-world");
  const integration = await import("../../../test/integration/helpers");
  ({ PASSWORD, uniqueEmail } = integration);
  VALID_CONFIG = helpers.VALID_CONFIG;
  // Through the API, as an inviter would: the token is the last segment of the link it answers.
  newInvitation = async (w) => {
    const route = routes.find((r) => r.pattern === "teams/[teamId]/invitations")!;
    const res = await helpers.callRoute(route, "POST", {
      params: { teamId: w.team.id },
      headers: { origin: "http://localhost:3000", cookie: w.actors.owner.cookie, "content-type": "application/json" },
      body: JSON.stringify({ email: uniqueEmail("new"), role: "MEMBER" }),
    });
    return (res.body as { invitation: { url: string } }).invitation.url.split("/").pop()!;
  };
  routes = await helpers.loadApiRoutes();
  redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  doc = (await import("@/server/openapi/document")).openApiDocument().doc as Record<string, any>;
  ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ ...(closed(doc) as object), $id: DOC_ID });
});

afterAll(async () => {
  const { trainingQueue, sweepQueue } = await import("@/server/queue");
  await trainingQueue.obliterate({ force: true }).catch(() => {});
  await sweepQueue.obliterate({ force: true }).catch(() => {});
  redis?.disconnect();
});

/** A world whose lists are not empty: epochs, log lines, an export, a worker with a GPU running a job and an inventory. */
async function richWorld(): Promise<World> {
  const { db } = await import("@/server/db");
  const w = await helpers.buildWorld();
  const jobId = w.jobs.ended.id;
  await db.jobEpoch.create({
    data: {
      jobId,
      epoch: 1,
      losses: { "train/box_loss": 1.2 },
      metrics: { "metrics/mAP50-95(B)": 0.31, fitness: null },
      lr: { "lr/pg0": 0.01 },
      epochTime: 2.5,
    },
  });
  await db.jobLog.create({ data: { jobId, seq: 1, stream: "stdout", line: "Epoch 1/1" } });
  await db.jobEvent.create({ data: { jobId, kind: "finished", message: "Succeeded" } });
  await db.modelExport.create({
    data: {
      id: `exp${Date.now()}`,
      jobId,
      format: "onnx",
      options: { format: "onnx", half: true },
      variant: "onnx-fp16",
      createdById: w.actors.owner.id,
      status: "FAILED",
      failureReason: "no GPU",
    },
  });
  const now = new Date().toISOString();
  const report: WorkerReport = {
    name: "openapi-worker",
    host: "gpu-host",
    pid: 2,
    startedAt: now,
    lastSeen: now,
    concurrency: 2,
    draining: false,
    trainer: { ok: true, details: { python: "3.11", torch: "2.5", other: 1 } },
    gpus: [
      {
        index: 0,
        uuid: "GPU-1",
        name: "H200",
        memoryTotalMb: 143771,
        memoryUsedMb: 10,
        memoryFreeMb: 143761,
        utilizationPercent: 5,
        temperatureC: 40,
        jobId: w.jobs.membersQueued.id,
      },
      {
        index: 1,
        uuid: "GPU-2",
        name: "H200",
        memoryTotalMb: 143771,
        memoryUsedMb: 0,
        memoryFreeMb: 143771,
        utilizationPercent: 0,
        temperatureC: null,
        jobId: w.jobs.otherJob.id,
      },
    ],
    runningJobIds: [w.jobs.membersQueued.id, w.jobs.otherJob.id],
    exportFormats: ["onnx"],
    inventory: {
      weights: ["yolo11n.pt"],
      datasets: [
        { path: "shapes/data.yaml", kind: "yaml", imgsz: 128 },
        { path: "flowers", kind: "classify" },
      ],
      truncated: false,
    },
  } as WorkerReport;
  await helpers.reportExportWorker(redis);
  await redis.hset(`wyolo:workers:${process.env.TRAINING_QUEUE}`, report.name, JSON.stringify(report));
  return w;
}

type Made = { personalToken: string; serviceToken: string; webhook: string; slack: string; delivery: string };
const madeFor = new WeakMap<World, Promise<Made>>();

/** Tokens, webhooks and a delivery of a world, made through the API as a client would (once per world). */
function made(w: World): Promise<Made> {
  let m = madeFor.get(w);
  if (!m) madeFor.set(w, (m = makeObjects(w)));
  return m;
}

async function makeObjects(w: World): Promise<Made> {
  const post = async (pattern: string, params: Record<string, string>, body?: unknown) => {
    const res = await helpers.callRoute(routes.find((r) => r.pattern === pattern)!, "POST", {
      params,
      headers: { origin: "http://localhost:3000", cookie: w.actors.owner.cookie, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`POST ${pattern}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const personal = await post("account/tokens", {}, { name: "mine", scopes: ["read"] });
  const service = await post("teams/[teamId]/tokens", { teamId: w.team.id }, { name: "svc", scopes: ["read"] });
  const hook = await post(
    "teams/[teamId]/webhooks",
    { teamId: w.team.id },
    { name: "h", url: "http://127.0.0.1:9/h", events: ["job.failed"] },
  );
  const slack = await post(
    "teams/[teamId]/webhooks",
    { teamId: w.team.id },
    { name: "s", kind: "SLACK", url: "http://127.0.0.1:9/s", events: ["job.failed"] },
  );
  const delivery = await post("webhooks/[webhookId]/test", { webhookId: hook.webhook.id });
  return {
    personalToken: personal.summary.id,
    serviceToken: service.summary.id,
    webhook: hook.webhook.id,
    slack: slack.webhook.id,
    delivery: delivery.delivery.id,
  };
}

const openApiPath = (pattern: string) => `/${pattern.replace(/\[([^\]]+)\]/g, "{$1}")}`;
const escapePointer = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

/** The validator of the documented JSON answer, or why there is none. */
function answerSchema(route: ApiRoute, method: HttpMethod, status: number): ValidateFunction | "undocumented" | "no body" {
  const path = openApiPath(route.pattern);
  const response = doc.paths?.[path]?.[method.toLowerCase()]?.responses?.[String(status)];
  if (!response) return "undocumented";
  if (!response.content?.["application/json"]?.schema) return "no body";
  const pointer = ["paths", path, method.toLowerCase(), "responses", String(status), "content", "application/json", "schema"]
    .map(escapePointer)
    .join("/");
  return ajv.getSchema(`${DOC_ID}#/${pointer}`)!;
}

type Outcome = { label: string; status: number; problems: string[] };

async function check(route: ApiRoute, method: HttpMethod, w: World, call: Call, label: string): Promise<Outcome> {
  const actor: Actor | null = call.as === null ? null : w.actors[call.as ?? "owner"];
  const headers: Record<string, string> = { origin: "http://localhost:3000" };
  if (actor && call.token) {
    const { createTestToken } = await import("./tokens-helper");
    headers.authorization = (await createTestToken({ userId: actor.id, ...call.token })).authorization;
  } else if (actor) headers.cookie = actor.cookie;
  let body: string | undefined;
  if (call.yaml !== undefined) {
    headers["content-type"] = "application/yaml";
    body = call.yaml;
  } else if (call.body !== undefined) {
    headers["content-type"] = "application/json";
    body = typeof call.body === "string" ? call.body : JSON.stringify(call.body);
  }
  const params = Object.fromEntries(route.params.map((p) => [p.name, call.params?.[p.name] ?? "x"]));
  const res = await helpers.callRoute(route, method, { params, headers, query: call.query, body });
  const problems: string[] = [];
  const where = `${method} /api/v1/${route.pattern} ${label} → ${res.status}`;
  const validate = answerSchema(route, method, res.status);
  if (validate === "undocumented") problems.push(`${where}: status not documented (${JSON.stringify(res.body)?.slice(0, 200)})`);
  else if (validate === "no body") {
    if (res.body !== null && res.body !== "")
      problems.push(`${where}: documented without a body, got ${JSON.stringify(res.body).slice(0, 200)}`);
  } else if (!validate(res.body)) {
    problems.push(`${where}: ${ajv.errorsText(validate.errors, { separator: "; " })} in ${JSON.stringify(res.body).slice(0, 300)}`);
  }
  return { label: where, status: res.status, problems };
}

describe("real answers match the OpenAPI document", () => {
  it("has a successful call for every route and method on disk", () => {
    const onDisk = routes.filter((r) => r.pattern !== "[...path]").flatMap((r) => r.exportedMethods.map((m) => `${m} ${r.pattern}`));
    expect(onDisk.filter((k) => !SUCCESS[k]).sort()).toEqual([]);
    expect(Object.keys(SUCCESS).filter((k) => !onDisk.includes(k))).toEqual([]);
  });

  it("success answers: documented status, body as documented", async () => {
    const problems: string[] = [];
    const statuses: string[] = [];
    let shared: World | undefined;
    for (const [key, prepare] of [...Object.entries(SUCCESS), ...MORE_SUCCESS]) {
      const [method, pattern] = key.split(" ") as [HttpMethod, string];
      const route = routes.find((r) => r.pattern === pattern);
      if (!route?.handlers[method]) continue; // reported by the test above
      // Reads share one world; each change gets its own, so a delete or a transfer cannot spoil the next call.
      const w = method === "GET" ? (shared ??= await richWorld()) : await richWorld();
      const sameAgain = MORE_SUCCESS.some(([k, p]) => k === key && p === prepare) && key.startsWith("POST jobs/[jobId]/exports");
      if (sameAgain) await check(route, method, w, await prepare(w), "(first)");
      const out = await check(route, method, w, await prepare(w), "");
      problems.push(...out.problems);
      statuses.push(`${key} ${out.status}`);
      if (out.status >= 400) problems.push(`${out.label}: expected a success`);
    }
    expect(problems).toEqual([]);
    // Both shapes of the answers that have two were seen.
    expect(statuses).toEqual(
      expect.arrayContaining([
        "GET jobs/[jobId]/artifacts/[artifactId]/download 302",
        "GET jobs/[jobId]/artifacts/[artifactId]/download 200",
        "POST jobs/[jobId]/exports 201",
        "POST jobs/[jobId]/exports 200",
      ]),
    );
  }, 240_000);

  it("error answers of token callers: a missing scope, a session-only route, an expired or narrowed-away token", async () => {
    const w = await richWorld();
    const probes: [string, Call, number][] = [
      ["POST projects/[projectId]/jobs", { params: project(w), body: { config: VALID_CONFIG }, token: { scopes: ["read"] } }, 403],
      ["GET account/tokens", { token: {} }, 403],
      ["GET me", { token: { expiresAt: new Date(Date.now() - 1000) } }, 401],
      ["GET teams/[teamId]", { params: team(w), token: { teamId: w.otherTeam.id } }, 404],
    ];
    const problems: string[] = [];
    for (const [key, call, want] of probes) {
      const [method, pattern] = key.split(" ") as [HttpMethod, string];
      const out = await check(routes.find((r) => r.pattern === pattern)!, method, w, call, "(token)");
      problems.push(...out.problems);
      if (out.status !== want) problems.push(`${out.label}: expected ${want}`);
    }
    expect(problems).toEqual([]);
  });

  it("error answers: signed out, unknown ids, invalid, malformed and wrongly typed bodies", async () => {
    const problems: string[] = [];
    const w = await richWorld();
    let seen = 0;
    for (const route of routes.filter((r) => r.pattern !== "[...path]")) {
      for (const method of Object.keys(route.handlers) as HttpMethod[]) {
        const op = doc.paths[openApiPath(route.pattern)]?.[method.toLowerCase()];
        if (!op) continue; // reported by the coverage test
        const base = await SUCCESS[`${method} ${route.pattern}`]!(w);
        const probes: [string, Call, number | null][] = [];
        const needsUser = (op.security ?? []).every((s: object) => Object.keys(s).length > 0) && op.security?.length;
        if (needsUser) probes.push(["signed out", { ...base, as: null }, 401]);
        if (route.params.length)
          probes.push(["unknown id", { ...base, params: Object.fromEntries(route.params.map((p) => [p.name, "no-such-id"])) }, 404]);
        if (op.requestBody) {
          probes.push(["invalid body", { ...base, body: [], yaml: undefined }, 422]);
          probes.push(["malformed JSON", { ...base, body: "{ not json", yaml: undefined }, 400]);
          probes.push(["wrong media type", { ...base, body: undefined, yaml: undefined }, null]);
        }
        for (const [label, call, want] of probes) {
          let out: Outcome;
          if (label === "wrong media type") {
            const params = Object.fromEntries(route.params.map((p) => [p.name, call.params?.[p.name] ?? "x"]));
            const res = await helpers.callRoute(route, method, {
              params,
              headers: { origin: "http://localhost:3000", cookie: w.actors[call.as ?? "owner"]!.cookie, "content-type": "text/plain" },
              body: "hello",
            });
            const validate = answerSchema(route, method, res.status);
            out = { label: `${method} ${route.pattern} ${label} → ${res.status}`, status: res.status, problems: [] };
            if (res.status !== 415) out.problems.push(`${out.label}: expected 415`);
            else if (typeof validate !== "function" || !validate(res.body)) out.problems.push(`${out.label}: not as documented`);
          } else {
            out = await check(route, method, w, call, `(${label})`);
            if (want !== null && out.status !== want) out.problems.push(`${out.label}: expected ${want}`);
            if (want === null && out.status < 400) out.problems.push(`${out.label}: expected an error`);
          }
          seen++;
          problems.push(...out.problems);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(seen).toBeGreaterThan(60);
  }, 240_000);
});
