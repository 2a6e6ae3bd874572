import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, createLifecycle, type LifecycleNotice } from "@wyolo/db";
import { randomBytes } from "node:crypto";

// Against the file's own Postgres: the conditional update, its timeline entry, its audit entry
// and the live notice, or none of them.
const db = createDb(process.env.DATABASE_URL!);
const notices: LifecycleNotice[] = [];
const errors: object[] = [];
const warnings: object[] = [];
const lifecycle = createLifecycle({
  db,
  publish: (n) => notices.push(n),
  log: { error: (o) => errors.push(o), warn: (o) => warnings.push(o), debug: () => {} },
});
let projectId: string;
let userId: string;
let teamId: string;

beforeAll(async () => {
  const tag = randomBytes(4).toString("hex");
  userId = (await db.user.create({ data: { email: `w-${tag}@example.test`, name: "Ann", passwordHash: "x" } })).id;
  teamId = (await db.team.create({ data: { name: `T ${tag}`, slug: `t-${tag}` } })).id;
  projectId = (await db.project.create({ data: { teamId, name: "P", slug: "p" } })).id;
});
afterAll(() => db.$disconnect());

const newJob = (status: "QUEUED" | "RUNNING" | "SUCCEEDED" = "QUEUED") =>
  db.trainingJob
    .create({ data: { projectId, createdById: userId, name: "j", config: {}, status }, select: { id: true } })
    .then((j) => j.id);
const timeline = (jobId: string) => db.jobEvent.findMany({ where: { jobId }, orderBy: { createdAt: "asc" } });

describe("lifecycle.transition", () => {
  it("applies an allowed change: the row, its timeline entry, its audit entry, then the live notice", async () => {
    const id = await newJob();
    notices.length = 0;
    const res = await lifecycle.transition({
      kind: "training",
      id,
      to: "CANCELLED",
      cause: "user",
      data: { finishedAt: new Date() },
      entry: { kind: "cancelled", message: "by Ann" },
      audit: { actorId: userId, action: "job.cancel", teamId, ip: "1.2.3.4" },
    });
    expect(res.applied).toBe(true);
    expect((await db.trainingJob.findUniqueOrThrow({ where: { id } })).status).toBe("CANCELLED");
    expect((await timeline(id)).map((e) => [e.kind, e.message])).toEqual([["cancelled", "by Ann"]]);
    expect(await db.auditLog.count({ where: { targetId: id, action: "job.cancel", actorId: userId, targetType: "job" } })).toBe(1);
    expect(notices).toMatchObject([
      { kind: "training", jobId: id, patch: { id, projectId, status: "CANCELLED" }, event: { kind: "cancelled" } },
    ]);
  });

  it("refuses and logs a change not allowed from the row's status, writing nothing", async () => {
    const id = await newJob("QUEUED");
    notices.length = 0;
    warnings.length = 0;
    // A queued job runs only after it was picked up (STARTING).
    const res = await lifecycle.transition({
      kind: "training",
      id,
      to: "RUNNING",
      cause: "worker",
      entry: { kind: "running", message: "x" },
    });
    expect(res).toEqual({ applied: false, refused: true, status: "QUEUED" });
    expect(warnings).toMatchObject([{ id, from: "QUEUED", to: "RUNNING", cause: "worker" }]);
    expect((await db.trainingJob.findUniqueOrThrow({ where: { id } })).status).toBe("QUEUED");
    expect(await timeline(id)).toEqual([]);
    expect(await db.auditLog.count({ where: { targetId: id } })).toBe(0);
    expect(notices).toEqual([]);
  });

  it("refuses a change no status allows, and a user's change without an audit entry, as errors", async () => {
    const id = await newJob();
    errors.length = 0;
    expect(await lifecycle.transition({ kind: "export", id, to: "CANCELLED", cause: "worker" })).toEqual({
      applied: false,
      refused: true,
      status: null,
    });
    const res = await lifecycle.transition({ kind: "training", id, to: "CANCELLED", cause: "user" });
    expect(res).toMatchObject({ applied: false, refused: true });
    expect(errors).toHaveLength(2);
    expect((await db.trainingJob.findUniqueOrThrow({ where: { id } })).status).toBe("QUEUED");
  });

  it("never moves a row out of a final state, and says where it is", async () => {
    const id = await newJob("SUCCEEDED");
    notices.length = 0;
    const res = await lifecycle.transition({
      kind: "training",
      id,
      to: "FAILED",
      cause: "reconciler",
      entry: { kind: "failed", message: "x" },
    });
    expect(res).toEqual({ applied: false, refused: true, status: "SUCCEEDED" });
    expect(await timeline(id)).toEqual([]);
    expect(notices).toEqual([]);
  });

  it("applies exactly one of two racing final changes", async () => {
    const id = await newJob("RUNNING");
    const [a, b] = await Promise.all([
      lifecycle.transition({ kind: "training", id, to: "CANCELLED", cause: "worker", entry: { kind: "cancelled", message: "w" } }),
      lifecycle.transition({ kind: "training", id, to: "FAILED", cause: "reconciler", entry: { kind: "failed", message: "r" } }),
    ]);
    expect([a.applied, b.applied].filter(Boolean)).toHaveLength(1);
    expect(await timeline(id)).toHaveLength(1);
  });

  it("honours the extra condition, and builds the entry from the changed row", async () => {
    const id = await newJob("RUNNING");
    await db.trainingJob.update({ where: { id }, data: { workerName: "w-9", heartbeatAt: new Date() } });
    const stalled = (before: Date) =>
      lifecycle.transition({
        kind: "training",
        id,
        to: "QUEUED",
        cause: "stalled",
        where: { heartbeatAt: { lt: before } },
        entry: (row) => ({ kind: "stalled", message: `Worker ${row.workerName} stopped responding` }),
      });
    expect((await stalled(new Date(Date.now() - 60_000))).applied).toBe(false);
    expect((await stalled(new Date(Date.now() + 1_000))).applied).toBe(true);
    expect((await timeline(id)).map((e) => e.message)).toEqual(["Worker w-9 stopped responding"]);
  });

  it("puts an export's entry on its job's timeline and publishes an export notice", async () => {
    const jobId = await newJob("SUCCEEDED");
    const exp = await db.modelExport.create({
      data: { id: `e${Date.now()}`, jobId, format: "onnx", options: {}, variant: "onnx", createdById: userId },
    });
    notices.length = 0;
    expect((await lifecycle.transition({ kind: "export", id: exp.id, to: "SUCCEEDED", cause: "worker" })).applied).toBe(false);
    expect(
      (await lifecycle.transition({ kind: "export", id: exp.id, to: "RUNNING", cause: "worker", data: { workerName: "w" } })).applied,
    ).toBe(true);
    const done = await lifecycle.transition({
      kind: "export",
      id: exp.id,
      to: "FAILED",
      cause: "worker",
      data: { failureReason: "boom" },
      entry: { kind: "export-failed", message: "boom" },
    });
    expect(done.applied).toBe(true);
    expect((await timeline(jobId)).map((e) => e.kind)).toEqual(["export-failed"]);
    expect(notices.map((n) => [n.kind, "jobId" in n ? n.jobId : n.sweepId, "patch" in n ? n.patch.status : null])).toEqual([
      ["export", jobId, "RUNNING"],
      ["export", jobId, "FAILED"],
    ]);
  });
});
