import { describe, expect, it } from "vitest";

// This file's web modules talk to a Redis that is not there (nothing listens on port 1).
process.env.REDIS_URL = "redis://127.0.0.1:1";

const CONFIG = { model: "yolo11n.pt", train: { data: "d.yaml", epochs: 1 }, sweeper: { tune: true, n_trials: 3 } };

describe("creating a sweep while Redis is down", () => {
  it("answers 503 quickly, from the sweeps endpoint and from POST jobs, and leaves no sweep or audit entry behind", async () => {
    const { db } = await import("@/server/db");
    const sweepsRoute = await import("@/app/api/v1/projects/[projectId]/sweeps/route");
    const jobsRoute = await import("@/app/api/v1/projects/[projectId]/jobs/route");
    const { call, createTeamWith, createUser, sessionCookie } = await import("../../../test/integration/helpers");
    const user = await createUser();
    const team = await createTeamWith([{ userId: user.id, role: "MEMBER" }]);
    const project = await db.project.create({ data: { teamId: team.id, name: "P", slug: "p" } });
    const cookie = await sessionCookie(user);
    for (const route of [sweepsRoute, jobsRoute]) {
      const started = Date.now();
      const res = await call(route.POST, { cookie, params: { projectId: project.id }, body: { config: CONFIG } });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe("SERVICE_UNAVAILABLE");
      expect(res.body.error.message).toMatch(/queue \(Redis\) is unavailable, so the sweep was not created/);
      expect(Date.now() - started).toBeLessThan(5_000);
    }
    expect(await db.sweep.count({ where: { projectId: project.id } })).toBe(0);
    expect(await db.trainingJob.count({ where: { projectId: project.id } })).toBe(0);
    expect(await db.auditLog.count({ where: { actorId: user.id } })).toBe(0);
  });
});
