import { readdirSync } from "node:fs";
import path from "node:path";
import type { Redis } from "ioredis";
import { parseTrainingConfig, workersKey, type Role, type WorkerReport } from "@wyolo/contracts";
import { newId } from "@wyolo/db";
import { db } from "@/server/db";
import { hashPassword } from "@/server/auth/password";
import { hashInviteToken, newInviteToken } from "@/server/invitations/token";
import { PASSWORD, createTeamWith, sessionCookie, uniqueEmail } from "../../../test/integration/helpers";

// Shared by the fuzz and role-matrix tests: every /api/v1 route as it is on disk, and a small
// world of two teams with every role, to call them against.

export const API_DIR = path.resolve(import.meta.dirname, "../src/app/api/v1");
export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
type Handler = (req: Request, ctx: { params: Promise<Record<string, unknown>> }) => Promise<Response>;

export type ApiRoute = {
  /** e.g. "teams/[teamId]/members/[userId]" */
  pattern: string;
  /** Dynamic segments in order; a catch-all ([...path]) is marked with `catchAll`. */
  params: { name: string; catchAll: boolean }[];
  handlers: Partial<Record<HttpMethod, Handler>>;
  /** Every export whose name looks like an HTTP method, handled by the tests or not. */
  exportedMethods: string[];
};

/** Every route.ts under api/v1, imported the way Next.js would load it. */
export async function loadApiRoutes(): Promise<ApiRoute[]> {
  const files = (readdirSync(API_DIR, { recursive: true }) as string[]).filter((f) => path.basename(f) === "route.ts").sort();
  const routes: ApiRoute[] = [];
  for (const file of files) {
    const pattern = path.dirname(file).split(path.sep).join("/");
    const mod = (await import(/* @vite-ignore */ path.join(API_DIR, file))) as Record<string, unknown>;
    const params = [...pattern.matchAll(/\[(\.\.\.)?([^\]]+)\]/g)].map((m) => ({ name: m[2]!, catchAll: !!m[1] }));
    const exportedMethods = Object.keys(mod).filter((k) => /^[A-Z]+$/.test(k));
    const handlers: ApiRoute["handlers"] = {};
    for (const m of HTTP_METHODS) if (typeof mod[m] === "function") handlers[m] = mod[m] as Handler;
    routes.push({ pattern: pattern === "." ? "" : pattern, params, handlers, exportedMethods });
  }
  return routes;
}

/** Calls a handler in-process, as Next.js does; `params` values for a catch-all are split on "/". */
export async function callRoute(
  route: ApiRoute,
  method: HttpMethod,
  opts: { params: Record<string, string>; headers?: Record<string, string>; query?: string; body?: BodyInit | null },
): Promise<{ status: number; body: any; ms: number }> {
  const params: Record<string, unknown> = {};
  for (const p of route.params) params[p.name] = p.catchAll ? (opts.params[p.name] ?? "x").split("/") : opts.params[p.name];
  const url = `http://localhost:3000/api/v1/${route.pattern}${opts.query ? `?${opts.query}` : ""}`;
  const hasBody = opts.body !== undefined && opts.body !== null && method !== "GET";
  const req = new Request(url, {
    method,
    headers: opts.headers,
    body: hasBody ? opts.body : undefined,
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
  const started = performance.now();
  const res = await route.handlers[method]!(req, { params: Promise.resolve(params) });
  const text = await res.text();
  const ms = performance.now() - started;
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // a redirect or plain answer: keep the text
  }
  return { status: res.status, body, ms };
}

export type Actor = { id: string; email: string; cookie: string };
export type BaseWorld = Awaited<ReturnType<typeof buildBaseWorld>>;
export type World = Awaited<ReturnType<typeof buildWorld>>;

let passwordHash: Promise<string> | undefined;

async function user(label: string, isPlatformAdmin = false): Promise<Actor> {
  passwordHash ??= hashPassword(PASSWORD);
  const row = await db.user.create({
    data: { email: uniqueEmail(label), name: label, passwordHash: await passwordHash, isPlatformAdmin },
    select: { id: true, email: true, sessionVersion: true },
  });
  return { id: row.id, email: row.email, cookie: await sessionCookie(row) };
}

export const VALID_CONFIG = { model: "yolo11n.pt", train: { data: "shapes/data.yaml", epochs: 1 } };

async function job(projectId: string, createdById: string, status: "QUEUED" | "SUCCEEDED", withWeights: boolean) {
  const row = await db.trainingJob.create({
    data: {
      projectId,
      createdById,
      name: `${status.toLowerCase()} job`,
      config: VALID_CONFIG,
      status,
      model: VALID_CONFIG.model,
      totalEpochs: 1,
    },
    select: { id: true },
  });
  if (!withWeights) return { id: row.id, artifactId: "" };
  const artifactId = newId();
  await db.jobArtifact.create({
    data: {
      id: artifactId,
      jobId: row.id,
      name: "weights/best.pt",
      size: 1n,
      sha256: "0".repeat(64),
      storageKey: `jobs/${row.id}/weights/best.pt`,
    },
  });
  return { id: row.id, artifactId };
}

/** A RUNNING sweep with one trial, COMPLETE (so its best can be trained); `activeTrial` adds a queued one. */
async function sweep(projectId: string, createdById: string, activeTrial: boolean) {
  const parsed = parseTrainingConfig({
    ...VALID_CONFIG,
    sweeper: { tune: true, n_trials: 5, search_space: { lr0: { type: "float", low: 0.001, high: 0.1 } } },
  });
  if (!parsed.ok || !parsed.sweep) throw new Error("the world's sweep config is invalid");
  const row = await db.sweep.create({
    data: {
      projectId,
      createdById,
      name: "a sweep",
      status: "RUNNING",
      config: parsed.config as object,
      settings: parsed.sweep as object,
      nTrials: 5,
      parallel: 2,
    },
    select: { id: true },
  });
  const trials = [
    { status: "SUCCEEDED" as const, trialState: "COMPLETE", trialValue: 0.5 },
    ...(activeTrial ? [{ status: "QUEUED" as const }] : []),
  ];
  for (const [trialNumber, t] of trials.entries())
    await db.trainingJob.create({
      data: {
        projectId,
        createdById,
        name: `a sweep #${trialNumber}`,
        config: VALID_CONFIG,
        model: VALID_CONFIG.model,
        totalEpochs: 1,
        sweepId: row.id,
        trialNumber,
        trialParams: { lr0: 0.01 },
        ...t,
      },
    });
  return row;
}

/**
 * Team A with one user per role (plus `peer`, a second MEMBER to act on), team B of an
 * outsider, a platform admin without membership, projects (one without jobs), jobs (one ended
 * with weights, one queued by `peer`, one queued by `member`), sweeps (`peer`'s, `member`'s with a
 * queued trial, another team's), and an open invitation.
 */
export async function buildWorld() {
  const base = await buildBaseWorld();
  const { seedDomains } = await import("./routes/index");
  return { ...base, ...(await seedDomains(base)) };
}

async function buildBaseWorld() {
  const [owner, admin, member, viewer, peer, outsider, platformAdmin, invitee] = await Promise.all([
    user("owner"),
    user("admin"),
    user("member"),
    user("viewer"),
    user("peer"),
    user("outsider"),
    user("platform", true),
    user("invitee"),
  ]);
  const roles: [Actor, Role][] = [
    [owner, "OWNER"],
    [admin, "ADMIN"],
    [member, "MEMBER"],
    [viewer, "VIEWER"],
    [peer, "MEMBER"],
  ];
  const team = await createTeamWith(roles.map(([a, role]) => ({ userId: a.id, role })));
  const otherTeam = await createTeamWith([{ userId: outsider.id, role: "OWNER" }]);
  const project = await db.project.create({ data: { teamId: team.id, name: "Main", slug: "main" }, select: { id: true } });
  const otherProject = await db.project.create({ data: { teamId: otherTeam.id, name: "Theirs", slug: "theirs" }, select: { id: true } });
  const emptyProject = await db.project.create({ data: { teamId: team.id, name: "Empty", slug: "empty" }, select: { id: true } });
  const ended = await job(project.id, peer.id, "SUCCEEDED", true);
  const peersQueued = await job(project.id, peer.id, "QUEUED", false);
  const membersQueued = await job(project.id, member.id, "QUEUED", false);
  const otherJob = await job(otherProject.id, outsider.id, "SUCCEEDED", true);
  const sweeps = {
    peers: await sweep(project.id, peer.id, false),
    members: await sweep(project.id, member.id, true),
    other: await sweep(otherProject.id, outsider.id, false),
  };
  const token = newInviteToken();
  const invitation = await db.invitation.create({
    data: {
      teamId: team.id,
      email: invitee.email,
      role: "VIEWER",
      tokenHash: hashInviteToken(token),
      expiresAt: new Date(Date.now() + 86_400_000),
      invitedById: owner.id,
    },
    select: { id: true },
  });
  return {
    actors: { owner, admin, member, viewer, peer, outsider, platformAdmin, invitee },
    team,
    otherTeam,
    project,
    otherProject,
    emptyProject,
    jobs: { ended, peersQueued, membersQueued, otherJob },
    sweeps,
    invitation: { id: invitation.id, token },
  };
}

/** An online worker that can export ONNX, as a real one reports itself, so exports can be asked for. */
export async function reportExportWorker(redis: Redis): Promise<void> {
  const now = new Date().toISOString();
  const report: WorkerReport = {
    name: "fuzz-worker",
    host: "test",
    pid: 1,
    startedAt: now,
    lastSeen: now,
    concurrency: 1,
    draining: false,
    trainer: { ok: true, details: {} },
    gpus: [],
    runningJobIds: [],
    exportFormats: ["onnx"],
  };
  await redis.hset(workersKey(process.env.TRAINING_QUEUE!), report.name, JSON.stringify(report));
}

/** Row counts of the tables a request can write; a refused request must leave them as they were. */
export async function rowCounts(): Promise<Record<string, number>> {
  const [row] = await db.$queryRaw<Record<string, bigint>[]>`
    SELECT (SELECT count(*) FROM "User") AS "User", (SELECT count(*) FROM "Team") AS "Team",
           (SELECT count(*) FROM "Membership") AS "Membership", (SELECT count(*) FROM "Project") AS "Project",
           (SELECT count(*) FROM "TrainingJob") AS "TrainingJob", (SELECT count(*) FROM "JobEvent") AS "JobEvent",
           (SELECT count(*) FROM "Invitation") AS "Invitation", (SELECT count(*) FROM "ModelExport") AS "ModelExport",
           (SELECT count(*) FROM "AuditLog") AS "AuditLog", (SELECT count(*) FROM "Sweep") AS "Sweep"`;
  return Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, Number(v)]));
}
