import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { can, ROLES, scopeFor, TOKEN_SCOPES, type Permission, type Role, type TokenScope } from "@wyolo/contracts";
import type { ApiRoute, HttpMethod, World } from "./api-world";
import { domainMatrix } from "./routes/index";

// Downloads sign a URL locally; no object store is contacted.
process.env.S3_ENDPOINT ??= "http://127.0.0.1:9";
process.env.S3_ACCESS_KEY_ID ??= "test-key";
process.env.S3_SECRET_ACCESS_KEY ??= "test-secret";
// Webhooks: a sealing key, and a receiver address the SSRF guard lets through (nothing listens there).
process.env.SECRETS_KEY ??= Buffer.alloc(32, 7).toString("base64");
process.env.WEBHOOK_ALLOWED_HOSTS ??= "127.0.0.1";

/**
 * Who may call what, per route and method, written against the permission table: the expected
 * status of every route × method × role is computed from PERMISSIONS, never written by hand.
 * A route or method on disk that is missing here fails the test, so a new route needs a line.
 */
type Access = (
  | { kind: "public" } // anyone, signed in or not
  | { kind: "signedIn" } // any signed-in user
  | { kind: "platformAdmin" }
  | { kind: "team"; permission: Permission } // checked against the caller's role in the object's team
  | { kind: "unknownPath" } // the catch-all: the API's 404 for everyone
) & { sessionOnly?: true }; // refused to API tokens (403), whatever their scopes

type Prepared = { params: Record<string, string>; body?: unknown; query?: string };
type Case = { access: Access; prepare: (w: World, actor: Actor) => Prepared | Promise<Prepared> };
type Actor = { key: ActorKey; id: string | null; email: string | null; cookie: string | null };

const team = (permission: Permission): Access => ({ kind: "team", permission });
const session = (access: Access): Access => ({ ...access, sessionOnly: true });
const teamParams = (w: World) => ({ teamId: w.team.id });
const jobParams = (w: World) => ({ jobId: w.jobs.ended.id });

const MATRIX: Record<string, Partial<Record<HttpMethod, Case>>> = {
  "[...path]": Object.fromEntries(
    (["GET", "POST", "PUT", "PATCH", "DELETE"] as const).map((m) => [
      m,
      { access: { kind: "unknownPath" }, prepare: () => ({ params: { path: "no/such/thing" } }) },
    ]),
  ),
  "account/password": {
    POST: {
      access: session({ kind: "signedIn" }),
      prepare: () => ({ params: {}, body: { currentPassword: PASSWORD, newPassword: "another-long-password" } }),
    },
  },
  "account/tokens": {
    GET: { access: session({ kind: "signedIn" }), prepare: () => ({ params: {} }) },
    POST: { access: session({ kind: "signedIn" }), prepare: () => ({ params: {}, body: { name: "CI", scopes: ["read"] } }) },
  },
  // The caller's own token (or, signed out, someone's).
  "account/tokens/[tokenId]": {
    DELETE: {
      access: session({ kind: "signedIn" }),
      prepare: async (w, actor) => ({ params: { tokenId: (await tokens.createTestToken({ userId: actor.id ?? w.actors.owner.id })).id } }),
    },
  },
  "teams/[teamId]/tokens": {
    GET: { access: session(team("token.manage")), prepare: (w) => ({ params: teamParams(w) }) },
    POST: { access: session(team("token.manage")), prepare: (w) => ({ params: teamParams(w), body: { name: "Bot", scopes: ["read"] } }) },
  },
  "teams/[teamId]/tokens/[tokenId]": {
    DELETE: {
      access: session(team("token.manage")),
      prepare: async (w) => ({
        params: { teamId: w.team.id, tokenId: (await tokens.createTestToken({ kind: "SERVICE", teamId: w.team.id })).id },
      }),
    },
  },
  "openapi.json": { GET: { access: { kind: "public" }, prepare: () => ({ params: {} }) } },
  "teams/[teamId]/webhooks": {
    GET: { access: team("team.update"), prepare: (w) => ({ params: teamParams(w) }) },
    POST: {
      access: team("team.update"),
      prepare: (w) => ({
        params: teamParams(w),
        body: { name: "Hook", kind: "GENERIC", url: "http://127.0.0.1:9/hook", events: ["job.succeeded"] },
      }),
    },
  },
  "webhooks/[webhookId]": {
    GET: { access: team("team.update"), prepare: async (w) => ({ params: { webhookId: (await webhookOf(w)).webhookId } }) },
    PATCH: {
      access: team("team.update"),
      prepare: async (w) => ({ params: { webhookId: (await webhookOf(w)).webhookId }, body: { enabled: false } }),
    },
    DELETE: { access: team("team.update"), prepare: async (w) => ({ params: { webhookId: (await webhookOf(w)).webhookId } }) },
  },
  "webhooks/[webhookId]/deliveries": {
    GET: { access: team("team.update"), prepare: async (w) => ({ params: { webhookId: (await webhookOf(w)).webhookId } }) },
  },
  "webhooks/[webhookId]/deliveries/[deliveryId]/redeliver": {
    POST: { access: team("team.update"), prepare: async (w) => ({ params: await webhookOf(w) }) },
  },
  "webhooks/[webhookId]/rotate-secret": {
    POST: { access: team("team.update"), prepare: async (w) => ({ params: { webhookId: (await webhookOf(w)).webhookId } }) },
  },
  "webhooks/[webhookId]/test": {
    POST: { access: team("team.update"), prepare: async (w) => ({ params: { webhookId: (await webhookOf(w)).webhookId } }) },
  },
  "admin/users": { GET: { access: { kind: "platformAdmin" }, prepare: () => ({ params: {} }) } },
  "admin/users/[userId]": {
    PATCH: { access: { kind: "platformAdmin" }, prepare: (w) => ({ params: { userId: w.actors.peer.id }, body: { disabled: true } }) },
  },
  "invitations/accept": {
    POST: {
      access: session({ kind: "public" }),
      // An invitation made out to the caller (or, signed out, to a new address) into a team of its own.
      prepare: async (w, actor) => ({
        params: {},
        body: { token: await invitationFor(w, actor.email ?? uniqueEmail("new")), name: "New Person", password: "a-long-password" },
      }),
    },
  },
  "invitations/preview": { POST: { access: { kind: "public" }, prepare: (w) => ({ params: {}, body: { token: w.invitation.token } }) } },
  "jobs/[jobId]/artifacts/[artifactId]/download": {
    GET: { access: team("job.read"), prepare: (w) => ({ params: { jobId: w.jobs.ended.id, artifactId: w.jobs.ended.artifactId } }) },
  },
  "jobs/[jobId]/artifacts": { GET: { access: team("job.read"), prepare: (w) => ({ params: jobParams(w) }) } },
  // Another member's queued job: cancelling it takes job.cancel.any (a MEMBER may cancel only their own).
  "jobs/[jobId]/cancel": { POST: { access: team("job.cancel.any"), prepare: (w) => ({ params: { jobId: w.jobs.peersQueued.id } }) } },
  "jobs/[jobId]/exports": {
    GET: { access: team("job.read"), prepare: (w) => ({ params: jobParams(w) }) },
    POST: { access: team("export.create"), prepare: (w) => ({ params: jobParams(w), body: { format: "onnx" } }) },
  },
  "jobs/[jobId]/logs": { GET: { access: team("job.read"), prepare: (w) => ({ params: jobParams(w) }) } },
  "jobs/[jobId]/metrics": { GET: { access: team("job.read"), prepare: (w) => ({ params: jobParams(w) }) } },
  "jobs/[jobId]/retry": { POST: { access: team("job.create"), prepare: (w) => ({ params: jobParams(w) }) } },
  "jobs/[jobId]": { GET: { access: team("job.read"), prepare: (w) => ({ params: jobParams(w) }) } },
  me: { GET: { access: { kind: "signedIn" }, prepare: () => ({ params: {} }) } },
  "projects/[projectId]/jobs": {
    GET: { access: team("job.read"), prepare: (w) => ({ params: { projectId: w.project.id } }) },
    POST: { access: team("job.create"), prepare: (w) => ({ params: { projectId: w.project.id }, body: { config: VALID_CONFIG } }) },
  },
  "projects/[projectId]/sweeps": {
    GET: { access: team("job.read"), prepare: (w) => ({ params: { projectId: w.project.id } }) },
    POST: { access: team("sweep.create"), prepare: (w) => ({ params: { projectId: w.project.id }, body: { config: VALID_CONFIG } }) },
  },
  // Another member's sweep: cancelling it or adding trials takes sweep.update.any (a MEMBER may change only their own).
  "sweeps/[sweepId]": { GET: { access: team("job.read"), prepare: (w) => ({ params: { sweepId: w.sweeps.peers.id } }) } },
  "sweeps/[sweepId]/cancel": { POST: { access: team("sweep.update.any"), prepare: (w) => ({ params: { sweepId: w.sweeps.peers.id } }) } },
  "sweeps/[sweepId]/trials": {
    POST: { access: team("sweep.update.any"), prepare: (w) => ({ params: { sweepId: w.sweeps.peers.id }, body: { count: 2 } }) },
  },
  "sweeps/[sweepId]/train-best": { POST: { access: team("job.create"), prepare: (w) => ({ params: { sweepId: w.sweeps.peers.id } }) } },
  "projects/[projectId]": {
    GET: { access: team("project.read"), prepare: (w) => ({ params: { projectId: w.project.id } }) },
    PATCH: { access: team("project.update"), prepare: (w) => ({ params: { projectId: w.project.id }, body: { name: "Renamed" } }) },
    // A project with active jobs cannot be deleted (409), whoever asks.
    DELETE: { access: team("project.delete"), prepare: (w) => ({ params: { projectId: w.emptyProject.id } }) },
  },
  "teams/[teamId]/invitations/[invitationId]": {
    DELETE: { access: team("member.invite"), prepare: (w) => ({ params: { teamId: w.team.id, invitationId: w.invitation.id } }) },
  },
  "teams/[teamId]/invitations": {
    GET: { access: team("member.invite"), prepare: (w) => ({ params: teamParams(w) }) },
    POST: {
      access: team("member.invite"),
      prepare: (w) => ({ params: teamParams(w), body: { email: uniqueEmail("invited"), role: "VIEWER" } }),
    },
  },
  "teams/[teamId]/members/[userId]": {
    PATCH: {
      access: team("member.update"),
      prepare: (w) => ({ params: { teamId: w.team.id, userId: w.actors.peer.id }, body: { role: "VIEWER" } }),
    },
    DELETE: { access: team("member.remove"), prepare: (w) => ({ params: { teamId: w.team.id, userId: w.actors.peer.id } }) },
  },
  "teams/[teamId]/members": { GET: { access: team("member.read"), prepare: (w) => ({ params: teamParams(w) }) } },
  "teams/[teamId]/projects": {
    GET: { access: team("project.read"), prepare: (w) => ({ params: teamParams(w) }) },
    POST: { access: team("project.create"), prepare: (w) => ({ params: teamParams(w), body: { name: "Second project" } }) },
  },
  "teams/[teamId]": {
    GET: { access: team("team.read"), prepare: (w) => ({ params: teamParams(w) }) },
    PATCH: { access: team("team.update"), prepare: (w) => ({ params: teamParams(w), body: { name: "Renamed team" } }) },
    DELETE: { access: team("team.delete"), prepare: (w) => ({ params: teamParams(w) }) },
  },
  "teams/[teamId]/transfer": {
    POST: { access: team("team.transfer"), prepare: (w) => ({ params: teamParams(w), body: { userId: w.actors.peer.id } }) },
  },
  teams: {
    GET: { access: { kind: "signedIn" }, prepare: () => ({ params: {} }) },
    POST: { access: session({ kind: "signedIn" }), prepare: () => ({ params: {}, body: { name: "Another team" } }) },
  },
  workers: { GET: { access: { kind: "signedIn" }, prepare: () => ({ params: {} }) } },
  "workers/training-options": { GET: { access: { kind: "signedIn" }, prepare: () => ({ params: {} }) } },
  "config-defaults": { GET: { access: { kind: "signedIn" }, prepare: () => ({ params: {} }) } },
  ...domainMatrix(),
};

// A platform admin without a membership acts as its team's ADMIN (server/access.ts).
const ACTORS = ["OWNER", "ADMIN", "MEMBER", "VIEWER", "non-member", "platform admin", "signed out"] as const;
type ActorKey = (typeof ACTORS)[number];

/** What the permission table says this caller should get: "ok" (2xx/3xx) or an error status. */
function expected(access: Access, actor: ActorKey): "ok" | 401 | 403 | 404 {
  if (access.kind === "unknownPath") return 404;
  if (access.kind === "public") return "ok";
  if (actor === "signed out") return 401;
  if (access.kind === "signedIn") return "ok";
  if (access.kind === "platformAdmin") return actor === "platform admin" ? "ok" : 403;
  if (actor === "non-member") return 404;
  const role: Role = actor === "platform admin" ? "ADMIN" : actor;
  return can(role, access.permission) ? "ok" : 403;
}

/**
 * API-token callers: the same permission table, narrowed by PERMISSION_SCOPE. Each is a token of
 * the world's team (or of the other team), so the expected answer follows from its role, its
 * scopes and its team: a missing scope is 403, another team 404, a session-only route 403.
 */
const TOKEN_CALLERS = [
  "OWNER token, read + the scope",
  "OWNER token, every scope but that one",
  "OWNER token narrowed to the other team",
  "VIEWER token, every scope",
  "ADMIN service token, read + the scope",
  "service token of the other team",
  "platform admin token, admin scope",
  "platform admin token without admin",
] as const;
type TokenCaller = (typeof TOKEN_CALLERS)[number];

/** The scope a route needs: its permission's; routes not tied to a permission need none (any scope will do). */
const neededScope = (access: Access): TokenScope | null => (access.kind === "team" ? scopeFor(access.permission) : null);

function expectedForToken(access: Access, caller: TokenCaller): "ok" | 401 | 403 | 404 {
  if (access.kind === "unknownPath") return 404;
  if (access.sessionOnly) return 403;
  if (access.kind === "public" || access.kind === "signedIn") return "ok";
  const platform = caller.startsWith("platform admin");
  if (access.kind === "platformAdmin") return caller === "platform admin token, admin scope" ? "ok" : 403;
  if (caller === "OWNER token narrowed to the other team" || caller === "service token of the other team") return 404;
  if (platform && caller === "platform admin token without admin") return 404; // no membership, no platform rights
  if (caller === "OWNER token, every scope but that one") return 403;
  const role: Role = caller.startsWith("VIEWER") ? "VIEWER" : caller.startsWith("OWNER") ? "OWNER" : "ADMIN";
  return can(role, access.permission) ? "ok" : 403;
}

async function tokenFor(w: World, access: Access, caller: TokenCaller): Promise<string> {
  const needed = neededScope(access);
  // A write scope acts on what the token can see: cancelling a job looks it up with job.read first.
  const exactly: TokenScope[] = needed ? [...new Set<TokenScope>(["read", needed])] : [...TOKEN_SCOPES];
  const allBut: TokenScope[] = TOKEN_SCOPES.filter((s) => s !== needed);
  const t = await {
    "OWNER token, read + the scope": () => tokens.createTestToken({ userId: w.actors.owner.id, scopes: exactly }),
    "OWNER token, every scope but that one": () => tokens.createTestToken({ userId: w.actors.owner.id, scopes: allBut }),
    "OWNER token narrowed to the other team": () => tokens.createTestToken({ userId: w.actors.owner.id, teamId: w.otherTeam.id }),
    "VIEWER token, every scope": () => tokens.createTestToken({ userId: w.actors.viewer.id }),
    "ADMIN service token, read + the scope": () =>
      tokens.createTestToken({ kind: "SERVICE", teamId: w.team.id, role: "ADMIN", scopes: exactly }),
    "service token of the other team": () => tokens.createTestToken({ kind: "SERVICE", teamId: w.otherTeam.id, role: "ADMIN" }),
    "platform admin token, admin scope": () =>
      tokens.createTestToken({ userId: w.actors.platformAdmin.id, scopes: [...new Set([...exactly, "admin" as const])] }),
    "platform admin token without admin": () =>
      tokens.createTestToken({ userId: w.actors.platformAdmin.id, scopes: allBut.filter((s) => s !== "admin") }),
  }[caller]();
  return t.authorization;
}

let routes: ApiRoute[];
let redis: Redis;
let helpers: typeof import("./api-world");
let PASSWORD: string;
let VALID_CONFIG: unknown;
let uniqueEmail: (prefix?: string) => string;
let invitationFor: (w: World, email: string) => Promise<string>;
let tokens: typeof import("./tokens-helper");
let webhookOf: (w: World) => Promise<{ webhookId: string; deliveryId: string }>;

beforeAll(async () => {
  helpers = await import("./api-world");
  const integration = await import("../../../test/integration/helpers");
  const { db } = await import("@/server/db");
  const { hashInviteToken, newInviteToken } = await import("@/server/invitations/token");
  ({ PASSWORD, uniqueEmail } = integration);
  VALID_CONFIG = helpers.VALID_CONFIG;
  invitationFor = async (w, email) => {
    const own = await integration.createTeamWith([{ userId: w.actors.invitee.id, role: "OWNER" }]);
    const token = newInviteToken();
    await db.invitation.create({
      data: {
        teamId: own.id,
        email,
        role: "VIEWER",
        tokenHash: hashInviteToken(token),
        expiresAt: new Date(Date.now() + 86_400_000),
        invitedById: w.actors.invitee.id,
      },
    });
    return token;
  };
  tokens = await import("./tokens-helper");
  const { seal } = await import("@/server/webhooks/secrets");
  const webhooks = new WeakMap<World, Promise<{ webhookId: string; deliveryId: string }>>();
  // One webhook of the world's team, with one delivery, made on first use.
  webhookOf = (w) => {
    const made =
      webhooks.get(w) ??
      (async () => {
        const hook = await db.webhook.create({
          data: {
            teamId: w.team.id,
            name: "Hook",
            kind: "GENERIC",
            urlEncrypted: seal("http://127.0.0.1:9/hook"),
            urlDisplay: "http://127.0.0.1:9",
            secretEncrypted: seal("whsec_test"),
            events: ["job.succeeded"],
          },
          select: { id: true },
        });
        const delivery = await db.webhookDelivery.create({
          data: { webhookId: hook.id, event: "job.succeeded", payload: {}, status: "FAILED" },
          select: { id: true },
        });
        return { webhookId: hook.id, deliveryId: delivery.id };
      })();
    webhooks.set(w, made);
    return made;
  };
  routes = await helpers.loadApiRoutes();
  redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
});

afterAll(async () => {
  const { trainingQueue, sweepQueue } = await import("@/server/queue");
  const { Queue } = await import("bullmq");
  const { webhookQueueName } = await import("@wyolo/contracts");
  const webhookQueue = new Queue(webhookQueueName(process.env.TRAINING_QUEUE!), {
    connection: { url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" },
  });
  await webhookQueue.obliterate({ force: true }).catch(() => {});
  await webhookQueue.close();
  await trainingQueue.obliterate({ force: true }).catch(() => {});
  await sweepQueue.obliterate({ force: true }).catch(() => {});
  redis?.disconnect();
});

function actorOf(w: World, key: ActorKey): Actor {
  const a = {
    OWNER: w.actors.owner,
    ADMIN: w.actors.admin,
    MEMBER: w.actors.member,
    VIEWER: w.actors.viewer,
    "non-member": w.actors.outsider,
    "platform admin": w.actors.platformAdmin,
    "signed out": null,
  }[key];
  return { key, id: a?.id ?? null, email: a?.email ?? null, cookie: a?.cookie ?? null };
}

type CallAs = { actor: Actor; headers: Record<string, string>; want: "ok" | 401 | 403 | 404 };

/** Calls every route × method on disk once per caller and expects what `as` says; reads share one world, changes get a fresh one. */
async function checkEveryRoute<C extends string>(callers: readonly C[], as: (world: World, spec: Case, caller: C) => Promise<CallAs>) {
  const mismatches: string[] = [];
  let checks = 0;
  let shared: World | null = null;
  for (const route of routes) {
    for (const method of Object.keys(route.handlers) as HttpMethod[]) {
      const spec = MATRIX[route.pattern]?.[method];
      if (!spec) continue; // reported by the first test
      for (const caller of callers) {
        // A fresh world per change, so an allowed delete cannot hide the next check.
        const world: World = method === "GET" ? (shared ??= await helpers.buildWorld()) : await helpers.buildWorld();
        await helpers.reportExportWorker(redis);
        const { actor, headers, want } = await as(world, spec, caller);
        const { params, body, query } = await spec.prepare(world, actor);
        const res = await helpers.callRoute(route, method, {
          params,
          query,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const ok = want === "ok" ? res.status >= 200 && res.status < 400 : res.status === want;
        checks++;
        if (!ok)
          mismatches.push(
            `${method} /api/v1/${route.pattern} as ${caller}: expected ${want}, got ${res.status} ${JSON.stringify(res.body)?.slice(0, 200)}`,
          );
      }
    }
  }
  expect(mismatches).toEqual([]);
  expect(checks).toBeGreaterThanOrEqual(callers.length * 30);
}

describe("role matrix (generated from PERMISSIONS)", () => {
  it("has a line for every route and method on disk, and none for a route that is gone", () => {
    const onDisk = routes.flatMap((r) => r.exportedMethods.map((m) => `${m} ${r.pattern}`)).sort();
    const inMatrix = Object.entries(MATRIX)
      .flatMap(([pattern, methods]) => Object.keys(methods).map((m) => `${m} ${pattern}`))
      .sort();
    expect(inMatrix).toEqual(onDisk);
  });

  it("answers every route × method × role as the permission table says", async () => {
    expect(ROLES.every((r) => ACTORS.includes(r))).toBe(true);
    await checkEveryRoute(ACTORS, async (world, spec, key) => {
      const actor = actorOf(world, key);
      const headers: Record<string, string> = { origin: "http://localhost:3000", "content-type": "application/json" };
      if (actor.cookie) headers.cookie = actor.cookie;
      return { actor, headers, want: expected(spec.access, key) };
    });
  }, 600_000);

  it("answers every route × method × API token (scope, team, role) as PERMISSIONS × PERMISSION_SCOPE say", async () => {
    await checkEveryRoute(TOKEN_CALLERS, async (world, spec, caller) => {
      const authorization = await tokenFor(world, spec.access, caller);
      // Own-object routes (a personal token to revoke) act for the owner; a script sends no Origin and no cookie.
      const actor: Actor = { key: "OWNER", id: world.actors.owner.id, email: world.actors.owner.email, cookie: null };
      return { actor, headers: { authorization, "content-type": "application/json" }, want: expectedForToken(spec.access, caller) };
    });
  }, 900_000);
});
