import type { BaseWorld, World } from "../api-world";
import type { MatrixEntries, SuccessEntries } from "./types";

// The job-page routes' lines in the route-wide tests (role matrix, OpenAPI answers, outages), and the
// objects of the test world they need (made by seed, found at world.jobPage). Server modules are
// imported inside seed: the route-wide tests set the environment before any of them loads.

const PLOTS = ["confusion_matrix.png", "BoxPR_curve.png", "val_batch0_pred.jpg"];

/** A finished job of the shared project with plot images among its artifacts, per-class metrics and a dataset version. */
export async function seed(base: BaseWorld) {
  const { db } = await import("@/server/db");
  const { newId } = await import("@wyolo/db");
  const dataset = await db.dataset.create({ data: { teamId: base.team.id, name: "job-page-shapes" }, select: { id: true } });
  const version = await db.datasetVersion.create({
    data: { datasetId: dataset.id, version: 1, status: "READY", task: "detect" },
    select: { id: true },
  });
  const job = await db.trainingJob.create({
    data: {
      projectId: base.project.id,
      createdById: base.actors.peer.id,
      name: "job with plots",
      status: "SUCCEEDED",
      model: "yolo11n.pt",
      config: { model: "yolo11n.pt", train: { data: "dataset:job-page-shapes@v1", epochs: 1 } },
      totalEpochs: 1,
      datasetVersionId: version.id,
      classMetrics: [{ id: 0, name: "circle", images: 4, instances: 6, box: { p: 0.9, r: 0.8, map50: 0.85, map50_95: 0.6 } }],
    },
    select: { id: true },
  });
  await db.jobArtifact.createMany({
    data: [...PLOTS, "weights/best.pt"].map((name) => ({
      id: newId(),
      jobId: job.id,
      name,
      size: 10n,
      sha256: "0".repeat(64),
      storageKey: `jobs/${job.id}/${name}`,
    })),
  });
  return { job, dataset, version };
}

const plotsCall = (w: World) => ({ params: { jobId: w.jobPage.job.id } });

export const success: SuccessEntries = {
  "GET jobs/[jobId]/plots": plotsCall,
};
export const matrix: MatrixEntries = {
  "jobs/[jobId]/plots": { GET: { access: { kind: "team", permission: "job.read" }, prepare: plotsCall } },
};
/** Path parameters (beyond the shared world's) and bodies for the outage test's calls. */
export const outageIds = (_w: World): Record<string, string> => ({});
export const outageBodies = (_w: World): Record<string, unknown> => ({});
/** Routes of this domain that need Redis (503 while it is away). */
export const needsRedis: string[] = [];
