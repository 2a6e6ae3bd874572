import type { BaseWorld, World } from "../api-world";
import type { Case, MatrixEntries, SuccessEntries } from "./types";

// The compare routes' lines in the route-wide tests (role matrix, OpenAPI answers, outages), and the
// objects of the test world they need (made by seed, found at world.compare). Server modules are
// imported inside seed: the route-wide tests set the environment before any of them loads.

const CLASSES = [
  { id: 0, name: "circle", images: 8, instances: 12, box: { p: 0.9, r: 0.8, map50: 0.85, map50_95: 0.6 } },
  { id: 1, name: "square", images: 6, instances: 9, box: { p: 0.7, r: 0.6, map50: 0.65, map50_95: 0.4 } },
];

/** A finished job of three epochs in `projectId`, its curve scaled by `scale`, with per-class metrics and one GPU's samples when asked. */
async function finishedJob(projectId: string, createdById: string, name: string, lr0: number, scale: number, withExtras: boolean) {
  const { db } = await import("@/server/db");
  const started = new Date(Date.now() - 3_600_000);
  const job = await db.trainingJob.create({
    data: {
      projectId,
      createdById,
      name,
      status: "SUCCEEDED",
      model: "yolo11n.pt",
      config: { model: "yolo11n.pt", task: "detect", train: { data: "shapes/data.yaml", epochs: 3, imgsz: 320, batch: 16, lr0 } },
      totalEpochs: 3,
      currentEpoch: 3,
      bestEpoch: 3,
      bestMetric: 0.5 * scale,
      bestMetricName: "metrics/mAP50-95(B)",
      startedAt: started,
      finishedAt: new Date(started.getTime() + 1_800_000),
      ...(withExtras ? { classMetrics: CLASSES } : {}),
    },
    select: { id: true },
  });
  await db.jobEpoch.createMany({
    data: [1, 2, 3].map((epoch) => ({
      jobId: job.id,
      epoch,
      losses: { "train/box_loss": 2 / epoch },
      metrics: { "metrics/mAP50-95(B)": (epoch / 6) * scale, "val/box_loss": 2.2 / epoch },
      lr: { "lr/pg0": lr0 / epoch },
    })),
  });
  if (withExtras)
    await db.jobResourceSample.create({
      data: { jobId: job.id, at: started, gpuUtil: 80, gpus: [{ index: 0, util: 80, memUsedMb: 1000, memTotalMb: 8000 }] },
    });
  return job;
}

export async function seed(base: BaseWorld) {
  const { db } = await import("@/server/db");
  const project = await db.project.create({
    data: { teamId: base.team.id, name: "Compare", slug: "compare" },
    select: { id: true },
  });
  const a = await finishedJob(project.id, base.actors.peer.id, "lr 0.01", 0.01, 1, true);
  const b = await finishedJob(project.id, base.actors.peer.id, "lr 0.02", 0.02, 1.2, false);
  return { project, jobs: { a, b } };
}

const compareCall = (w: World) => ({
  params: { teamId: w.team.id },
  query: `jobs=${w.compare.jobs.a.id},${w.compare.jobs.b.id},${w.jobs.ended.id}`,
});
const leaderboardCall = (w: World) => ({ params: { projectId: w.compare.project.id }, query: "metric=val%2Fbox_loss" });

export const success: SuccessEntries = {
  "GET teams/[teamId]/compare": compareCall,
  "GET projects/[projectId]/leaderboard": leaderboardCall,
};

const read: Case["access"] = { kind: "team", permission: "job.read" };
export const matrix: MatrixEntries = {
  "teams/[teamId]/compare": { GET: { access: read, prepare: compareCall } },
  "projects/[projectId]/leaderboard": { GET: { access: read, prepare: leaderboardCall } },
};
/** Path parameters (beyond the shared world's) and bodies for the outage test's calls. */
export const outageIds = (_w: World): Record<string, string> => ({});
export const outageBodies = (_w: World): Record<string, unknown> => ({});
/** Query strings of the outage test's calls (a compare names its jobs). */
export const outageQueries = (w: World): Record<string, string> => ({ "GET teams/[teamId]/compare": compareCall(w).query });
/** Routes of this domain that need Redis (503 while it is away). */
export const needsRedis: string[] = [];
