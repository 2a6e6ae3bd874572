import type { Db } from "@wyolo/db";
import { isUniqueViolation, newId } from "@wyolo/db";
import { isRetryableStatus, s3Status } from "../retryable.ts";
import type { Logger } from "../logger.ts";
import type { LivePublisher } from "../realtime.ts";
import { chunk, mlflowKey, MlflowError, type MlflowClient } from "./client.ts";
import type { ArtifactStore } from "../artifacts/store.ts";

type Tag = { key: string; value: string };
type Lane = { kinds: "calls" | "artifacts"; backoffMs: number; retryAt: number; draining: Promise<void> | null };
export type TrackingCallPayload =
  | { kind: "start"; experimentName: string; experimentTags: Tag[]; runName: string; startTime: number; tags: Tag[] }
  | { kind: "params"; params: Tag[] }
  | { kind: "metrics"; metrics: { key: string; value: number; timestamp: number; step: number }[] }
  | { kind: "status"; status: "RUNNING" | "FINISHED" | "FAILED" | "KILLED"; endTime?: number }
  /** A copy of a stored artifact in the run's artifact root (same name, e.g. weights/best.pt). */
  | { kind: "artifact"; name: string; storageKey: string };

/**
 * MLflow tracking that never fails or slows a training: calls go to an outbox table at once
 * and a loop sends them in order, per job, retrying with backoff while MLflow is away. A call
 * leaves the outbox only once MLflow took it, so nothing is lost; metrics carry fixed
 * timestamps and each epoch is queued once, so nothing is logged twice. Calls MLflow refuses
 * for good (a 4xx other than throttling) are logged and dropped rather than block the rest.
 */
export class Tracker {
  private readonly nextSeq = new Map<string, number>();
  private readonly enqueuing = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  /**
   * Two lanes, each in order per job: MLflow calls (run, params, metrics, status) and artifact
   * copies, so a large upload never holds back another job's metrics.
   */
  private readonly lanes: Lane[] = [
    { kinds: "calls", backoffMs: 0, retryAt: 0, draining: null },
    { kinds: "artifacts", backoffMs: 0, retryAt: 0, draining: null },
  ];

  constructor(
    private readonly db: Db,
    private readonly client: MlflowClient,
    private readonly live: LivePublisher,
    private readonly worker: string,
    private readonly log: Logger,
    private readonly opts: { intervalMs: number; maxBackoffMs: number; delayedAfterMs: number },
    /** Where artifacts are read from to copy them into runs; without it artifact calls are dropped. */
    private readonly artifacts?: ArtifactStore,
  ) {}

  start() {
    this.timer = setInterval(() => void this.drain(), this.opts.intervalMs);
  }

  async stop(timeoutMs: number) {
    if (this.timer) clearInterval(this.timer);
    await Promise.race([this.drain(), new Promise((r) => setTimeout(r, timeoutMs))]);
  }

  /** A job picked up again: its calls not yet sent become this worker's. */
  async adopt(jobId: string) {
    await this.db.trackingCall.updateMany({ where: { jobId }, data: { workerName: this.worker } });
    this.nextSeq.delete(jobId);
  }

  /** Queues calls after the job's others. Calls for one job are queued one batch at a time. */
  enqueue(jobId: string, calls: TrackingCallPayload[]): Promise<void> {
    if (!calls.length) return Promise.resolve();
    const previous = this.enqueuing.get(jobId) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.insert(jobId, calls));
    this.enqueuing.set(jobId, next);
    void next.finally(() => this.enqueuing.get(jobId) === next && this.enqueuing.delete(jobId)).catch(() => {});
    return next;
  }

  private async insert(jobId: string, calls: TrackingCallPayload[]) {
    for (let attempt = 1; ; attempt++) {
      if (!this.nextSeq.has(jobId)) {
        const max = (await this.db.trackingCall.aggregate({ where: { jobId }, _max: { seq: true } }))._max.seq ?? 0;
        this.nextSeq.set(jobId, max + 1);
      }
      const first = this.nextSeq.get(jobId)!;
      const rows = calls.map((payload, i) => ({
        id: newId(),
        jobId,
        seq: first + i,
        kind: payload.kind,
        payload,
        workerName: this.worker,
      }));
      try {
        await this.db.trackingCall.createMany({ data: rows });
        this.nextSeq.set(jobId, first + calls.length);
        break;
      } catch (err) {
        // Another worker queued calls for this job meanwhile (an export elsewhere): read the end again.
        if (!isUniqueViolation(err) || attempt >= 5) throw err;
        this.nextSeq.delete(jobId);
      }
    }
    void this.drain();
  }

  drain(): Promise<void> {
    return Promise.all(this.lanes.map((lane) => (lane.draining ??= this.doDrain(lane).finally(() => (lane.draining = null))))).then(
      () => {},
    );
  }

  private async doDrain(lane: Lane) {
    if (Date.now() < lane.retryAt) return;
    const pending = await this.db.trackingCall.findMany({
      where: { workerName: this.worker, kind: lane.kinds === "artifacts" ? "artifact" : { not: "artifact" } },
      orderBy: [{ jobId: "asc" }, { seq: "asc" }],
      take: 200,
    });
    const byJob = new Map<string, typeof pending>();
    for (const c of pending) byJob.set(c.jobId, [...(byJob.get(c.jobId) ?? []), c]);
    let failed = false;
    let unavailable = false;
    for (const [jobId, calls] of byJob) {
      let jobFailed = false;
      for (const call of calls) {
        try {
          await this.send(jobId, call.payload as TrackingCallPayload);
          await this.db.trackingCall.delete({ where: { id: call.id } });
        } catch (err) {
          if (err instanceof MlflowError && err.permanent && err.code !== "RESOURCE_DOES_NOT_EXIST" && err.code !== "RUN_NOT_READY") {
            this.log.warn({ jobId, kind: call.kind, code: err.code, message: err.message }, "MLflow refused a call; dropped");
            await this.db.trackingCall.delete({ where: { id: call.id } });
            continue;
          }
          jobFailed = true;
          await this.db.trackingCall.update({ where: { id: call.id }, data: { attempts: { increment: 1 } } });
          if (Date.now() - call.createdAt.getTime() > this.opts.delayedAfterMs) await this.setDelayed(jobId, true);
          this.log.debug({ jobId, err: { message: (err as Error).message } }, "MLflow call not sent; will retry");
          // MLflow itself away (no answer, 5xx): the other jobs' calls would fail too. An artifact
          // copy that fails says nothing about MLflow (it may be the object store): only this job waits.
          unavailable = lane.kinds === "calls" && (!(err instanceof MlflowError) || err.status >= 500);
          break;
        }
      }
      if (jobFailed) failed = true;
      else if ((await this.db.trackingCall.count({ where: { jobId } })) === 0) await this.setDelayed(jobId, false);
      if (unavailable) break;
    }
    if (failed) {
      lane.backoffMs = Math.min(this.opts.maxBackoffMs, lane.backoffMs ? lane.backoffMs * 2 : 500);
      lane.retryAt = Date.now() + lane.backoffMs;
    } else {
      lane.backoffMs = 0;
    }
  }

  private async setDelayed(jobId: string, delayed: boolean) {
    const { count } = await this.db.trainingJob.updateMany({
      where: { id: jobId, trackingDelayed: !delayed },
      data: { trackingDelayed: delayed },
    });
    if (count) {
      const row = await this.db.trainingJob.findUnique({ where: { id: jobId }, select: { projectId: true } });
      if (row) this.live.jobUpdated({ id: jobId, projectId: row.projectId, trackingDelayed: delayed });
    }
  }

  private async runIdOf(jobId: string): Promise<string> {
    const row = await this.db.trainingJob.findUnique({ where: { id: jobId }, select: { mlflowRunId: true } });
    if (row?.mlflowRunId) return row.mlflowRunId;
    // Without a run, and no start call left to make one, these calls can never be sent.
    if ((await this.db.trackingCall.count({ where: { jobId, kind: "start" } })) === 0)
      throw new MlflowError(410, "NO_RUN", "the job has no MLflow run (its creation was refused)");
    throw new MlflowError(503, "RUN_NOT_READY", "the job's MLflow run does not exist yet");
  }

  private async send(jobId: string, call: TrackingCallPayload) {
    switch (call.kind) {
      case "start": {
        const row = await this.db.trainingJob.findUnique({
          where: { id: jobId },
          select: { mlflowRunId: true, mlflowExperimentId: true, projectId: true },
        });
        if (row?.mlflowRunId) {
          await this.client.updateRun(row.mlflowRunId, "RUNNING");
          // A resume on another worker: the run names where it trains now (tags, unlike params, may change).
          const placement = call.tags.filter((t) => t.key === "wyolo.worker" || t.key === "wyolo.gpu");
          if (placement.length) await this.client.logBatch(row.mlflowRunId, { tags: placement });
          return;
        }
        const experimentId = await this.client.ensureExperiment(call.experimentName, call.experimentTags);
        // A crash after MLflow created the run but before its id was stored: find it by tag.
        const run =
          (await this.client.findRunByTag(experimentId, "wyolo.job_id", jobId)) ??
          (await this.client.createRun(experimentId, call.runName, call.startTime, call.tags));
        await this.db.trainingJob.update({
          where: { id: jobId },
          data: { mlflowExperimentId: experimentId, mlflowRunId: run.run_uuid, mlflowArtifactUri: run.artifact_uri },
        });
        if (row) this.live.jobUpdated({ id: jobId, projectId: row.projectId, mlflowExperimentId: experimentId, mlflowRunId: run.run_uuid });
        return;
      }
      case "params":
        for (const part of chunk(call.params, 100)) await this.client.logBatch(await this.runIdOf(jobId), { params: part });
        return;
      case "metrics":
        for (const part of chunk(call.metrics, 1000)) await this.client.logBatch(await this.runIdOf(jobId), { metrics: part });
        return;
      case "status":
        await this.client.updateRun(await this.runIdOf(jobId), call.status, call.endTime);
        return;
      case "artifact":
        return this.sendArtifact(jobId, call);
    }
  }

  /**
   * Puts an artifact into the run's artifact root: an `s3://bucket/prefix` root gets a
   * server-side copy (the same object store), an `mlflow-artifacts:/` root an upload through
   * MLflow's artifact proxy. Other roots cannot be reached from a worker: logged and dropped.
   */
  private async sendArtifact(jobId: string, call: Extract<TrackingCallPayload, { kind: "artifact" }>) {
    if (!this.artifacts) throw new MlflowError(410, "NO_OBJECT_STORE", "no object store is configured to read the artifact from");
    const runId = await this.runIdOf(jobId);
    let root = (await this.db.trainingJob.findUnique({ where: { id: jobId }, select: { mlflowArtifactUri: true } }))?.mlflowArtifactUri;
    if (!root) {
      root = (await this.client.getRun(runId)).artifact_uri;
      await this.db.trainingJob.update({ where: { id: jobId }, data: { mlflowArtifactUri: root } });
    }
    const missing = (err: unknown) => {
      // The object is gone (the job's artifacts were deleted): nothing to copy, ever.
      if ((err as Error).name === "NoSuchKey")
        throw new MlflowError(404, "ARTIFACT_MISSING", `${call.storageKey} is no longer in the object store`);
      // The object store refuses (no such bucket, access denied: MLflow's root is not writable
      // with the worker's credentials): retrying will not help, so it is dropped with a warning.
      const status = s3Status(err);
      if (status && !isRetryableStatus(status))
        throw new MlflowError(status, "ARTIFACT_COPY_REFUSED", `the object store refused the copy: ${(err as Error).message}`);
      throw err;
    };
    const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(root);
    if (s3) {
      const prefix = s3[2]!.replace(/\/+$/, "");
      await this.artifacts.copy(call.storageKey, s3[1]!, prefix ? `${prefix}/${call.name}` : call.name).catch(missing);
    } else if (root.startsWith("mlflow-artifacts:")) {
      const { body, length } = await this.artifacts.open(call.storageKey).catch(missing);
      await this.client.uploadArtifact(root, call.name, body, length).finally(() => body.destroy());
    } else {
      throw new MlflowError(
        400,
        "UNSUPPORTED_ARTIFACT_ROOT",
        `the run's artifact root ${root} cannot be written from a worker (use s3:// or --serve-artifacts)`,
      );
    }
    this.log.debug({ jobId, name: call.name, root }, "artifact copied to the MLflow run");
  }
}

/** One epoch's numbers as MLflow metrics: step = epoch, names in MLflow's charset, no NaN/null. */
export function epochMetrics(
  epoch: {
    epoch: number;
    losses: Record<string, number | null>;
    metrics: Record<string, number | null>;
    lr: Record<string, number | null>;
    epochTime: number | null;
  },
  timestamp: number,
) {
  const all: Record<string, number | null> = {
    ...epoch.losses,
    ...epoch.metrics,
    ...epoch.lr,
    ...(epoch.epochTime != null ? { epoch_time_s: epoch.epochTime } : {}),
  };
  return Object.entries(all)
    .filter((e): e is [string, number] => typeof e[1] === "number" && Number.isFinite(e[1]))
    .map(([key, value]) => ({ key: mlflowKey(key), value, timestamp, step: epoch.epoch }));
}
