import type { TrainingConfig } from "@wyolo/contracts";
import type { Tracker } from "../mlflow/tracker.ts";
import { configParams } from "../mlflow/client.ts";

export type TrackedJob = {
  id: string;
  name: string;
  projectId: string;
  startedAt: Date | null;
  project: { slug: string; team: { slug: string } };
  createdBy: { name: string };
  /** A sweep's trial: its run nests under the sweep's parent run when that run's id is known here (else the advance step tags it). */
  sweepId?: string | null;
  trialNumber?: number | null;
  sweep?: { mlflowRunId: string | null } | null;
};

/** A trial run's tags: its sweep, its number and MLflow's nesting tag (the sweep's parent run). */
export function trialTags(sweepId: string, trialNumber: number | null | undefined, parentRunId: string | null | undefined) {
  return [
    { key: "wyolo.sweep_id", value: sweepId },
    ...(trialNumber != null ? [{ key: "wyolo.trial", value: String(trialNumber) }] : []),
    ...(parentRunId ? [{ key: "mlflow.parentRunId", value: parentRunId }] : []),
  ];
}

/** The job's MLflow run, created (or set RUNNING again on resume) through the tracker's outbox. */
export async function startTracking(
  tracker: Tracker,
  job: TrackedJob,
  config: TrainingConfig,
  run: { workerName: string; gpuIndexes: number[]; resumed: boolean },
): Promise<void> {
  if (run.resumed) await tracker.adopt(job.id);
  await tracker.enqueue(job.id, [
    {
      kind: "start",
      experimentName: `${job.project.team.slug}/${job.project.slug}`,
      experimentTags: [{ key: "wyolo.project_id", value: job.projectId }],
      runName: job.name,
      startTime: (job.startedAt ?? new Date()).getTime(),
      tags: [
        { key: "wyolo.job_id", value: job.id },
        { key: "wyolo.project", value: job.project.slug },
        { key: "wyolo.team", value: job.project.team.slug },
        { key: "mlflow.user", value: job.createdBy.name },
        { key: "wyolo.model", value: config.model },
        { key: "wyolo.task", value: config.task },
        { key: "wyolo.dataset", value: config.train.data },
        { key: "wyolo.worker", value: run.workerName },
        { key: "wyolo.gpu", value: run.gpuIndexes.length ? run.gpuIndexes.join(",") : "cpu" },
        ...(job.sweepId ? trialTags(job.sweepId, job.trialNumber, job.sweep?.mlflowRunId) : []),
      ],
    },
    // A resumed job continues its own run: its params are already there and must not change.
    ...(run.resumed ? [] : [{ kind: "params" as const, params: configParams(config) }]),
  ]);
}
