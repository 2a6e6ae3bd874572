import type { Db } from "@wyolo/db";
import type { SweepSettings, SweepStatus } from "@wyolo/contracts";
import type { Logger } from "../logger.ts";
import type { LivePublisher } from "../realtime.ts";
import { chunk, mlflowKey, type MlflowClient } from "../mlflow/client.ts";
import { trialTags } from "../training/tracking.ts";

/** The tag that finds a sweep's parent run again after a crash between its creation and storing its id (trials carry wyolo.sweep_id). */
const PARENT_TAG = "wyolo.sweep_run";
const END_STATUS = { COMPLETED: "FINISHED", CANCELLED: "KILLED", FAILED: "FAILED" } as const;

export type TrackedSweep = {
  id: string;
  projectId: string;
  name: string;
  status: SweepStatus;
  nTrials: number;
  settings: SweepSettings;
  createdAt: Date;
  finishedAt: Date | null;
  mlflowExperimentId: string | null;
  mlflowRunId: string | null;
  project: { slug: string; team: { slug: string } };
  createdBy: { name: string };
};
/** A trial told COMPLETE, with its value and when its job finished (the metric's fixed timestamp). */
export type CompletedTrial = { number: number; value: number; finishedAt: Date | null };
/** A trial's own MLflow run (created by the tracker when it started). */
export type TrialRun = { jobId: string; trialNumber: number; mlflowRunId: string };

/** The sweep's settings and space as MLflow params: flat keys without parentheses; `n_trials` is a tag (adding trials changes it). */
export function sweepParams(settings: SweepSettings): { key: string; value: string }[] {
  const { search_space, n_trials: _nTrials, ...rest } = settings;
  const params = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([key, value]) => ({ key: `sweep.${key}`, value: String(value) }));
  for (const [arg, p] of Object.entries(search_space)) {
    const value =
      p.type === "categorical"
        ? `categorical ${JSON.stringify(p.choices)}`
        : `${p.type} [${p.low}, ${p.high}]${p.log ? " log" : ""}${p.step !== undefined ? ` step ${p.step}` : ""}`;
    params.push({ key: `space.${arg}`, value: value.slice(0, 6000) });
  }
  return params.map((p) => ({ key: mlflowKey(p.key), value: p.value }));
}

/** best_value per completed trial, in trial order: step = trial number, value = the best so far in the sweep's direction. */
export function bestValueSeries(trials: CompletedTrial[], direction: SweepSettings["direction"]) {
  let best: number | null = null;
  return [...trials]
    .sort((a, b) => a.number - b.number)
    .map((t) => {
      best = best === null ? t.value : direction === "maximize" ? Math.max(best, t.value) : Math.min(best, t.value);
      return { key: "best_value", value: best, step: t.number, timestamp: (t.finishedAt ?? new Date(0)).getTime() };
    });
}

/**
 * A sweep's MLflow parent run, kept up to date by the advance step through MlflowClient directly:
 * created in the project's experiment with the settings and space as params, `best_value` per
 * completed trial, ended with the sweep. Trials nest under it by their runs' `mlflow.parentRunId`
 * tag (training/tracking.ts). An outage only delays: sync() answers false and the next advance
 * tries again. Metric points carry fixed timestamps, so one sent twice (another process, a retry)
 * is the same row to MLflow.
 */
export class SweepTracking {
  /** Per sweep: the last best_value step sent from this process, and the run status set. */
  private readonly sent = new Map<string, { step: number; status: string | null }>();
  /** Trial runs tagged with their parent from this process (a run that started before its parent existed gets the tag here). */
  private readonly nested = new Set<string>();

  constructor(private readonly deps: { db: Db; client: MlflowClient; live: Pick<LivePublisher, "sweepUpdated">; log: Logger }) {}

  async sync(sweep: TrackedSweep, completed: CompletedTrial[], trialRuns: TrialRun[]): Promise<boolean> {
    try {
      const runId = sweep.mlflowRunId ?? (await this.createRun(sweep));
      for (const trial of trialRuns) {
        if (this.nested.has(trial.mlflowRunId)) continue;
        await this.deps.client.logBatch(trial.mlflowRunId, { tags: trialTags(sweep.id, trial.trialNumber, runId) });
        if (this.nested.size > 100_000) this.nested.clear();
        this.nested.add(trial.mlflowRunId);
      }
      const memo = this.sent.get(sweep.id) ?? { step: -1, status: sweep.mlflowRunId ? null : "RUNNING" };
      this.sent.set(sweep.id, memo);
      const metrics = bestValueSeries(completed, sweep.settings.direction).filter((m) => m.step > memo.step);
      for (const part of chunk(metrics, 1000)) {
        await this.deps.client.logBatch(runId, { metrics: part });
        memo.step = part.at(-1)!.step;
      }
      const ended = sweep.status in END_STATUS ? END_STATUS[sweep.status as keyof typeof END_STATUS] : null;
      const status = ended ?? "RUNNING";
      if (memo.status !== status) {
        await this.deps.client.logBatch(runId, { tags: [{ key: "wyolo.n_trials", value: String(sweep.nTrials) }] });
        await this.deps.client.updateRun(runId, status, ended ? (sweep.finishedAt ?? new Date()).getTime() : undefined);
        memo.status = status;
      }
      return true;
    } catch (err) {
      this.deps.log.warn({ sweepId: sweep.id, err: { message: (err as Error).message } }, "sweep's MLflow run not updated; retried later");
      return false;
    }
  }

  private async createRun(sweep: TrackedSweep): Promise<string> {
    const { client, db, live } = this.deps;
    const experimentId = await client.ensureExperiment(`${sweep.project.team.slug}/${sweep.project.slug}`, [
      { key: "wyolo.project_id", value: sweep.projectId },
    ]);
    const run =
      (await client.findRunByTag(experimentId, PARENT_TAG, sweep.id)) ??
      (await client.createRun(experimentId, sweep.name, sweep.createdAt.getTime(), [
        { key: PARENT_TAG, value: sweep.id },
        { key: "wyolo.project", value: sweep.project.slug },
        { key: "wyolo.team", value: sweep.project.team.slug },
        { key: "mlflow.user", value: sweep.createdBy.name },
        { key: "wyolo.n_trials", value: String(sweep.nTrials) },
      ]));
    // Params never change once logged, and these do not: logging them again after a crash is accepted.
    for (const part of chunk(sweepParams(sweep.settings), 100)) await client.logBatch(run.run_uuid, { params: part });
    await db.sweep.updateMany({
      where: { id: sweep.id, mlflowRunId: null },
      data: { mlflowExperimentId: experimentId, mlflowRunId: run.run_uuid },
    });
    live.sweepUpdated({ id: sweep.id, projectId: sweep.projectId, mlflowExperimentId: experimentId, mlflowRunId: run.run_uuid });
    return run.run_uuid;
  }
}
