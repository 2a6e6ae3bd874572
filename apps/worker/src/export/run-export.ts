import { existsSync, mkdirSync, realpathSync, rmSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import path from "node:path";
import { DelayedError, UnrecoverableError } from "bullmq";
import type { Db, ExportTransition, Lifecycle } from "@wyolo/db";
import {
  EXPORT_FORMAT_INFO,
  exportNeedsGpu,
  TERMINAL_STATUSES,
  type ExportFormat,
  type ExportJobPayload,
  type ExportOptions,
  type JobStatus,
  type TrainerEvent,
} from "@wyolo/contracts";
import type { JobContext } from "../catalog.ts";
import type { WorkerEnv } from "../env.ts";
import type { LivePublisher } from "../realtime.ts";
import type { ArtifactStore } from "../artifacts/store.ts";
import { sha256, withRetryWindow } from "../artifacts/store.ts";
import type { Tracker } from "../mlflow/tracker.ts";
import type { Placement } from "../gpus.ts";
import { TrainerProcess } from "../training/trainer-process.ts";
import { checkStoredConfig, datasetsRoot } from "../training/inputs.ts";
import { decideOutcome } from "../outcome.ts";
import { requeueLater } from "../requeue.ts";

export type ExportRuntime = {
  env: WorkerEnv;
  db: Db;
  live: LivePublisher;
  /** Every status change of an export goes through it. */
  lifecycle: Lifecycle;
  artifacts?: ArtifactStore;
  tracker?: Tracker;
  /** The formats this worker's exporter reported at start. */
  formats: () => readonly string[];
  /** Whether another online worker reports the format (and has a GPU, when asked), so the export waits for it rather than fails. */
  otherWorkerCan: (format: string, withGpu: boolean) => Promise<boolean>;
  /** GPUs this worker found at start. */
  gpuCount: number;
  placeJob: (id: string, gpus: number | undefined) => Promise<Placement>;
  releaseJob: (id: string) => void;
};

const WEIGHTS = "weights/best.pt";

/**
 * Exports a finished job's best.pt with the exporter child process (Ultralytics' model.export)
 * and stores the output as an artifact of the job (`exports/<variant>/<file>`) and of its MLflow
 * run. The weights come from this worker's disk when it trained the job and the checksum
 * matches, else from the object store, so any worker that supports the format can take it.
 */
export async function runExport({ exportId }: ExportJobPayload, ctx: JobContext, rt: ExportRuntime): Promise<{ status: JobStatus }> {
  const { db, env, live } = rt;
  const row = await db.modelExport.findUnique({
    where: { id: exportId },
    select: {
      id: true,
      jobId: true,
      format: true,
      options: true,
      variant: true,
      status: true,
      job: {
        select: {
          id: true,
          name: true,
          config: true,
          mlflowRunId: true,
          artifacts: { where: { name: WEIGHTS }, select: { storageKey: true, sha256: true } },
        },
      },
    },
  });
  if (!row) throw new UnrecoverableError(`Export ${exportId} has no database row; dropped`);
  if (TERMINAL_STATUSES.includes(row.status)) return { status: row.status };
  const format = row.format as ExportFormat;
  const info = EXPORT_FORMAT_INFO[format];
  const options = row.options as ExportOptions;
  const log = ctx.log.child({ exportId, jobId: row.jobId, format });

  /** The export's new status (and, when it ends, the job's timeline entry) through the lifecycle. */
  const update = (to: JobStatus, data: ExportTransition["data"] = {}, entry?: { kind: string; message: string }) =>
    rt.lifecycle.transition({ kind: "export", id: exportId, to, cause: "worker", data, ...(entry ? { entry } : {}) });
  const fail = async (reason: string): Promise<never> => {
    await update(
      "FAILED",
      { failureReason: reason.slice(0, 2000), finishedAt: new Date() },
      { kind: "export-failed", message: `Export to ${info?.label ?? format} failed: ${reason}` },
    );
    throw new UnrecoverableError(reason);
  };

  try {
    return await exportOnce();
  } catch (err) {
    if (err instanceof DelayedError || err instanceof UnrecoverableError) throw err;
    // An infrastructure error (database, object store, Redis): BullMQ retries it; on the last
    // attempt the export is failed here, so it never stays RUNNING or QUEUED with no queue entry.
    const attempts = ctx.job.opts.attempts ?? 1;
    log.warn({ err: { message: (err as Error).message }, attempt: ctx.job.attemptsMade + 1, attempts }, "export attempt failed");
    if (ctx.job.attemptsMade + 1 >= attempts) return fail(`The export failed ${attempts} time(s): ${(err as Error).message}`);
    await update("QUEUED").catch(() => {});
    throw err;
  }

  async function exportOnce(): Promise<{ status: JobStatus }> {
    if (!info) return fail(`Unknown export format "${format}"`);
    if (!rt.artifacts)
      return fail(
        `Worker ${env.WORKER_NAME} has no object store configured (S3_ENDPOINT), so it cannot read the weights or store the export`,
      );
    const best = row!.job.artifacts[0];
    if (!best) return fail("The job has no best.pt in the object store");
    const needsGpu = exportNeedsGpu(options);
    const canHere = rt.formats().includes(format) && (!needsGpu || rt.gpuCount > 0);
    if (!canHere) {
      if (await rt.otherWorkerCan(format, needsGpu)) {
        // Another worker can: back to the queue, where it (or a restarted one) takes it.
        return requeueLater(ctx.job, ctx.token, 5_000);
      }
      if (!rt.formats().includes(format))
        return fail(`No online worker can export to ${info.label}; ${env.WORKER_NAME} supports ${rt.formats().join(", ") || "no formats"}`);
      return fail(
        `${options.half && !info.gpu ? `FP16 ${info.label}` : info.label} export needs a GPU, and no online worker that can export it has one`,
      );
    }
    const placement = needsGpu ? await rt.placeJob(exportId, 1) : { device: "cpu", gpuIndexes: [] as number[] };
    if ("waitReason" in placement) return requeueLater(ctx.job, ctx.token, env.GPU_WAIT_RETRY_MS);

    const dir = path.resolve(env.WORKER_DATA_DIR, "exports", exportId);
    try {
      await update("RUNNING", { workerName: env.WORKER_NAME, startedAt: new Date(), failureReason: null, finishedAt: null });
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const weights = path.join(dir, "best.pt");
      const local = path.resolve(env.WORKER_DATA_DIR, "jobs", row!.jobId, "train", WEIGHTS);
      if (existsSync(local) && (await sha256(local)) === best.sha256) {
        await copyFile(local, weights);
      } else {
        // The object's own checksum (stored with it) vouches for it too: see ArtifactStore.restore.
        const { sha256: written } = await withRetryWindow(() => rt.artifacts!.download(best.storageKey, weights), 60_000).catch(
          (err: Error) => (err.name === "NoSuchKey" ? fail("The job's best.pt is no longer in the object store") : Promise.reject(err)),
        );
        const digest = await sha256(weights);
        if (digest !== best.sha256 && digest !== written) return await fail("The stored best.pt does not match its recorded checksum");
      }

      // The job's config, validated like a training's: its model type, and its dataset for INT8 calibration.
      const checked = checkStoredConfig(row!.job.config);
      if ("problem" in checked) return await fail(`The job's stored config is invalid: ${checked.problem}`);
      const result = await exportWith(
        rt,
        log,
        ctx.signal,
        dir,
        weights,
        options,
        checked.config.type,
        checked.config.train.data,
        placement,
      );
      if (result.kind === "shutdown") {
        await update("QUEUED", { workerName: env.WORKER_NAME });
        return await requeueLater(ctx.job, ctx.token, 0);
      }
      if (result.kind === "failed") return await fail(result.reason);

      const name = `exports/${row!.variant}/${path.basename(result.file)}`;
      const artifact = await withRetryWindow(
        () => rt.artifacts!.storeFile(row!.jobId, result.file, name),
        env.ARTIFACT_RETRY_WINDOW_MS,
      ).catch((err: Error) => fail(`The export could not be stored: ${err.message}`));
      await update(
        "SUCCEEDED",
        { finishedAt: new Date(), artifactId: artifact.id },
        { kind: "exported", message: `Exported to ${info.label}: ${name}` },
      );
      live.exportUpdated({
        id: exportId,
        jobId: row!.jobId,
        artifact: { id: artifact.id, name: artifact.name, size: artifact.size, sha256: artifact.sha256 },
      });
      live.artifactsChanged(row!.jobId);
      // The export joins the job's MLflow run as an artifact too (not worth failing the export over).
      if (rt.tracker && row!.job.mlflowRunId) {
        await rt.tracker
          .enqueue(row!.jobId, [{ kind: "artifact", name, storageKey: artifact.storageKey }])
          .catch((err: Error) => log.warn({ err: { message: err.message } }, "MLflow artifact copy not queued"));
      }
      log.info({ name, size: artifact.size }, "export stored");
      return { status: "SUCCEEDED" };
    } finally {
      rmSync(dir, { recursive: true, force: true });
      if (needsGpu) rt.releaseJob(exportId);
    }
  }
}

type ExportResult = { kind: "exported"; file: string } | { kind: "failed"; reason: string } | { kind: "shutdown" };

async function exportWith(
  rt: ExportRuntime,
  log: JobContext["log"],
  signal: AbortSignal,
  dir: string,
  weights: string,
  options: ExportOptions,
  modelType: string,
  data: string | undefined,
  placement: Extract<Placement, { device: string }>,
): Promise<ExportResult> {
  const { env } = rt;
  if (signal.aborted) return { kind: "shutdown" };
  let exported: Extract<TrainerEvent, { type: "exported" }> | null = null;
  let failed: Extract<TrainerEvent, { type: "failed" }> | null = null;
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
  };
  const child = new TrainerProcess(
    env.EXPORTER_COMMAND.split(/\s+/),
    {
      WYOLO_WEIGHTS: weights,
      WYOLO_EXPORT: JSON.stringify(options),
      WYOLO_MODEL_TYPE: modelType,
      // INT8 calibrates on the job's own dataset (resolved like the trainer does).
      ...(data ? { WYOLO_DATA: data } : {}),
      WYOLO_DATASETS_DIR: datasetsRoot(env),
      WYOLO_RUN_DIR: dir,
      WYOLO_EVENTS_FD: "3",
      WYOLO_PROTOCOL_VERSION: "1",
      CUDA_VISIBLE_DEVICES: placement.gpuIndexes.join(","),
      WYOLO_DEVICE: placement.device,
    },
    path.join(dir, "STOP"),
    {
      onEvent: (ev) => {
        if (ev.type === "exported") exported = ev;
        else if (ev.type === "failed") failed = ev;
        else if (ev.type === "log") keep(`[${ev.level}] ${ev.message}`);
      },
      onOutput: (_stream, line) => keep(line),
    },
    log,
  );
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill();
  }, env.EXPORT_TIMEOUT_MS);
  timer.unref();
  let shutdown = false;
  const onAbort = () => {
    shutdown = true;
    child.kill();
  };
  signal.addEventListener("abort", onAbort);
  child.start(process.cwd());
  const exit = await child.exited;
  clearTimeout(timer);
  signal.removeEventListener("abort", onAbort);
  const ok = exported as Extract<TrainerEvent, { type: "exported" }> | null;
  const bad = failed as Extract<TrainerEvent, { type: "failed" }> | null;
  log.info({ exit, exported: ok?.file, failed: bad?.errorClass }, "exporter exited");
  const outcome = decideOutcome({
    child: "exporter",
    program: env.EXPORTER_COMMAND.split(/\s+/)[0] ?? "",
    exit,
    stopReason: shutdown ? "shutdown" : null,
    ...(timedOut
      ? { timedOut: `The export took longer than ${Math.round(env.EXPORT_TIMEOUT_MS / 60_000)} min (EXPORT_TIMEOUT_MS) and was stopped` }
      : {}),
    succeeded: !!ok,
    failed: bad,
    crashDetail: tail.slice(-3).join(" | ").slice(0, 500),
  });
  if (outcome.status === "QUEUED") return { kind: "shutdown" };
  if (outcome.status !== "SUCCEEDED" || !ok) return { kind: "failed", reason: outcome.message };
  // Only the export's own directory: the exporter names its output, the worker checks where it is.
  const file = existsSync(ok.file) ? realpathSync(ok.file) : "";
  const rel = file ? path.relative(realpathSync(dir), file) : "..";
  if (!rel || rel === ".." || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel))
    return { kind: "failed", reason: `The exporter reported an output outside its directory or missing: ${ok.file}` };
  return { kind: "exported", file };
}
