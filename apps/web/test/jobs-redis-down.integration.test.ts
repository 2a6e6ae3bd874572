import { describe, expect, it } from "vitest";

// This file's web modules talk to a Redis that is not there (nothing listens on port 1).
process.env.REDIS_URL = "redis://127.0.0.1:1";

describe("submitting while Redis is down", () => {
  it("answers 503 quickly with a clear message and leaves no QUEUED row behind", async () => {
    const { db } = await import("@/server/db");
    const jobsRoute = await import("@/app/api/v1/projects/[projectId]/jobs/route");
    const { call, createTeamWith, createUser, sessionCookie } = await import("../../../test/integration/helpers");
    const user = await createUser();
    const team = await createTeamWith([{ userId: user.id, role: "MEMBER" }]);
    const project = await db.project.create({ data: { teamId: team.id, name: "P", slug: "p" } });
    const started = Date.now();
    const res = await call(jobsRoute.POST, {
      cookie: await sessionCookie(user),
      params: { projectId: project.id },
      body: { config: { model: "yolo11n.pt", train: { data: "d.yaml", epochs: 1 } } },
    });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("SERVICE_UNAVAILABLE");
    expect(res.body.error.message).toMatch(/queue \(Redis\) is unavailable/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await db.trainingJob.count({ where: { projectId: project.id } })).toBe(0);
  });

  it("answers 503 to an export request and writes no export row", async () => {
    const { db } = await import("@/server/db");
    const { newId } = await import("@wyolo/db");
    const exportsRoute = await import("@/app/api/v1/jobs/[jobId]/exports/route");
    const { call, createTeamWith, createUser, sessionCookie } = await import("../../../test/integration/helpers");
    const user = await createUser();
    const team = await createTeamWith([{ userId: user.id, role: "MEMBER" }]);
    const project = await db.project.create({ data: { teamId: team.id, name: "P", slug: "p" } });
    // A finished job with its weights stored, as a worker leaves it.
    const job = await db.trainingJob.create({
      data: { projectId: project.id, createdById: user.id, name: "done", config: {}, status: "SUCCEEDED" },
    });
    await db.jobArtifact.create({
      data: {
        id: newId(),
        jobId: job.id,
        name: "weights/best.pt",
        size: 1n,
        sha256: "0".repeat(64),
        storageKey: `jobs/${job.id}/weights/best.pt`,
      },
    });
    const res = await call(exportsRoute.POST, { cookie: await sessionCookie(user), params: { jobId: job.id }, body: { format: "onnx" } });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("SERVICE_UNAVAILABLE");
    expect(await db.modelExport.count({ where: { jobId: job.id } })).toBe(0);
    expect(await db.jobEvent.count({ where: { jobId: job.id } })).toBe(0);
  });
});
