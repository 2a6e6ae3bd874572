import type { BaseWorld, World } from "../api-world";
import type { MatrixEntries, SuccessEntries } from "./types";

// The resources routes' lines in the route-wide tests (role matrix, OpenAPI answers, outages), and the
// objects of the test world they need (made by seed, found at world.resources).

/** Two samples of the ended job: one on a GPU, one merged CPU-only span, so the answer schema sees both shapes. */
export async function seed(base: BaseWorld) {
  const { db } = await import("@/server/db");
  const at = Date.parse("2026-01-01T00:00:00Z");
  await db.jobResourceSample.createMany({
    data: [
      {
        jobId: base.jobs.ended.id,
        at: new Date(at),
        spanSeconds: 5,
        cpuPercent: 180,
        rssBytes: 3_000_000_000n,
        hostCpuPercent: 45,
        gpuUtil: 92,
        gpuMemUsedMb: 6000,
        gpus: [{ index: 0, util: 92, memUsedMb: 6000, memTotalMb: 24576 }],
      },
      { jobId: base.jobs.ended.id, at: new Date(at + 5000), spanSeconds: 10, cpuPercent: 95, rssBytes: 1_000_000n, hostCpuPercent: 50 },
    ],
  });
  return {};
}

const jobParams = (w: World) => ({ jobId: w.jobs.ended.id });

export const success: SuccessEntries = { "GET jobs/[jobId]/resources": (w) => ({ params: jobParams(w) }) };
export const matrix: MatrixEntries = {
  "jobs/[jobId]/resources": { GET: { access: { kind: "team", permission: "job.read" }, prepare: (w) => ({ params: jobParams(w) }) } },
};
/** Path parameters (beyond the shared world's) and bodies for the outage test's calls. */
export const outageIds = (_w: World): Record<string, string> => ({});
export const outageBodies = (_w: World): Record<string, unknown> => ({});
/** Routes of this domain that need Redis (503 while it is away). */
export const needsRedis: string[] = [];
