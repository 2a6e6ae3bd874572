import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { can, ROLES, type Permission, type Role } from "@wyolo/contracts";
import type { ApiRoute, HttpMethod, World } from "./api-world";

// Downloads sign a URL locally; no object store is contacted.
process.env.S3_ENDPOINT ??= "http://127.0.0.1:9";
process.env.S3_ACCESS_KEY_ID ??= "test-key";
process.env.S3_SECRET_ACCESS_KEY ??= "test-secret";

/**
 * Who may call what, per route and method, written against the permission table: the expected
 * status of every route × method × role is computed from PERMISSIONS, never written by hand.
 * A route or method on disk that is missing here fails the test, so a new route needs a line.
 */
type Access =
  | { kind: "public" } // anyone, signed in or not
  | { kind: "signedIn" } // any signed-in user
  | { kind: "platformAdmin" }
  | { kind: "team"; permission: Permission } // checked against the caller's role in the object's team
  | { kind: "unknownPath" }; // the catch-all: the API's 404 for everyone

type Prepared = { params: Record<string, string>; body?: unknown };
type Case = { access: Access; prepare: (w: World, actor: Actor) => Prepared | Promise<Prepared> };
type Actor = { key: ActorKey; id: string | null; email: string | null; cookie: string | null };

const team = (permission: Permission): Access => ({ kind: "team", permission });
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
      access: { kind: "signedIn" },
      prepare: () => ({ params: {}, body: { currentPassword: PASSWORD, newPassword: "another-long-password" } }),
    },
  },
  "admin/users": { GET: { access: { kind: "platformAdmin" }, prepare: () => ({ params: {} }) } },
  "admin/users/[userId]": {
    PATCH: { access: { kind: "platformAdmin" }, prepare: (w) => ({ params: { userId: w.actors.peer.id }, body: { disabled: true } }) },
  },
  "invitations/accept": {
    POST: {
      access: { kind: "public" },
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
    POST: { access: { kind: "signedIn" }, prepare: () => ({ params: {}, body: { name: "Another team" } }) },
  },
  workers: { GET: { access: { kind: "signedIn" }, prepare: () => ({ params: {} }) } },
  "config-defaults": { GET: { access: { kind: "signedIn" }, prepare: () => ({ params: {} }) } },
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

let routes: ApiRoute[];
let redis: Redis;
let helpers: typeof import("./api-world");
let PASSWORD: string;
let VALID_CONFIG: unknown;
let uniqueEmail: (prefix?: string) => string;
let invitationFor: (w: World, email: string) => Promise<string>;

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
  routes = await helpers.loadApiRoutes();
  redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
});

afterAll(async () => {
  const { trainingQueue, sweepQueue } = await import("@/server/queue");
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
    const mismatches: string[] = [];
    let checks = 0;
    let shared: World | null = null;
    for (const route of routes) {
      for (const method of Object.keys(route.handlers) as HttpMethod[]) {
        const spec = MATRIX[route.pattern]?.[method];
        if (!spec) continue; // reported by the test above
        for (const key of ACTORS) {
          // Reads share one world; a change gets a fresh one, so an allowed delete cannot hide the next check.
          const world: World = method === "GET" ? (shared ??= await helpers.buildWorld()) : await helpers.buildWorld();
          await helpers.reportExportWorker(redis);
          const actor = actorOf(world, key);
          const { params, body } = await spec.prepare(world, actor);
          const headers: Record<string, string> = { origin: "http://localhost:3000", "content-type": "application/json" };
          if (actor.cookie) headers.cookie = actor.cookie;
          const res = await helpers.callRoute(route, method, {
            params,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          const want = expected(spec.access, key);
          const ok = want === "ok" ? res.status >= 200 && res.status < 400 : res.status === want;
          checks++;
          if (!ok)
            mismatches.push(
              `${method} /api/v1/${route.pattern} as ${key}: expected ${want}, got ${res.status} ${JSON.stringify(res.body)?.slice(0, 200)}`,
            );
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(checks).toBeGreaterThanOrEqual(ACTORS.length * 30);
  }, 240_000);
});
