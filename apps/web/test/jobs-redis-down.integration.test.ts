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
});
