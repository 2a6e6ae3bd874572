import { existsSync, lstatSync, mkdirSync, realpathSync, rmSync } from "node:fs";
import path from "node:path";
import type { Db } from "@wyolo/db";
import {
  datasetVersionLabel,
  isDatasetRef,
  jobWeightsArtifactName,
  parseDatasetRef,
  parseJobWeightsRef,
  parseTrainingConfig,
  type FailureClass,
  type JobWeightsRef,
  type TrainingConfig,
} from "@wyolo/contracts";
import type { WorkerEnv } from "../env.ts";
import type { Logger } from "../logger.ts";
import { sha256, withRetryWindow, type ArtifactStore } from "../artifacts/store.ts";
import { locateWeights } from "./weights.ts";
import { DatasetCacheError, datasetCacheRoot, formatBytes, workerDatasetCache } from "../datasets/cache.ts";

export type Refusal = { problem: string; failureClass: FailureClass };
/**
 * The trainer's WYOLO_* path variables, and timeline notes on the earlier jobs' weights and the
 * dataset version fetched. `release` ends the job's hold on its cached dataset version (call it
 * once the trainer has exited; until then the cache never evicts it).
 */
export type TrainerInputs = { env: Record<string, string>; notes: string[]; release?: () => void };

/** Relative dataset paths resolve here: DATASETS_DIR, else a folder of the worker's own data directory (never its working directory). */
export const datasetsRoot = (env: WorkerEnv) => path.resolve(env.DATASETS_DIR ?? path.join(env.WORKER_DATA_DIR, "datasets"));

/** A fetched `job:<id>/best.pt` in the run's inputs folder; the trainer maps references to the same names. */
export const inputFileName = (ref: JobWeightsRef) => `${ref.jobId}-${ref.file}`;

const inside = (root: string, p: string) => p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

/**
 * Whether `rel` stays under `root` once symlinks are followed (realpath). A path that does not
 * exist is judged by its deepest existing ancestor (the trainer then reports it missing); a
 * dangling symlink is refused, since what it points at could appear later.
 */
export function staysInside(root: string, rel: string): boolean {
  const lexical = path.resolve(root, rel);
  if (!inside(path.resolve(root), lexical)) return false;
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return true; // no root, so nothing under it to follow
  }
  for (let probe = lexical; ; probe = path.dirname(probe)) {
    try {
      return inside(realRoot, path.join(realpathSync(probe), path.relative(probe, lexical)));
    } catch {
      if (existsSyncNoFollow(probe)) return false;
      if (probe === path.dirname(probe)) return true;
    }
  }
}

function existsSyncNoFollow(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * A stored config, validated again with the contracts' schema: a row written around the web app
 * gets no further than here. Read once per run; everything after works on the typed config.
 */
export function checkStoredConfig(stored: unknown): { config: TrainingConfig } | Refusal {
  const parsed = parseTrainingConfig(stored);
  if (parsed.ok) return { config: parsed.config };
  const pathIssue = parsed.issues.find((i) => ["model", "train.data", "train.pretrained"].includes(i.path));
  const all = parsed.issues.map((i) => `${i.path}: ${i.message}`).join("; ");
  return pathIssue
    ? { failureClass: "PATH_NOT_ALLOWED", problem: `\`${pathIssue.path}\` is not allowed: ${pathIssue.message}` }
    : { failureClass: "INVALID_ARGUMENT", problem: `The stored config is invalid: ${all}`.slice(0, 2000) };
}

/**
 * Everything a training reads from disk, checked before the trainer starts: the dataset and
 * named weights must stay in DATASETS_DIR / WEIGHTS_DIR after symlinks, and `job:<id>/best.pt`
 * references are fetched from the object store (after checking in the database that the job is
 * of this job's team) into the run's inputs folder, checked against their recorded sha256.
 */
export async function prepareInputs(
  job: { id: string; teamId: string; config: TrainingConfig },
  runDir: string,
  deps: { env: WorkerEnv; db: Db; store: ArtifactStore | undefined; log: Logger; signal?: AbortSignal },
): Promise<TrainerInputs | Refusal> {
  const { env } = deps;
  const { config } = job;
  const datasets = datasetsRoot(env);
  const fromVersion = isDatasetRef(config.train.data);
  if (!fromVersion && !staysInside(datasets, config.train.data)) {
    return {
      failureClass: "PATH_NOT_ALLOWED",
      problem: `\`train.data\` (${config.train.data}) leads outside the datasets directory (DATASETS_DIR) once symlinks are followed; refused`,
    };
  }
  const out: TrainerInputs = { env: { WYOLO_DATASETS_DIR: datasets }, notes: [] };
  const inputsDir = path.join(runDir, "inputs");
  const pretrained = typeof config.train.pretrained === "string" ? config.train.pretrained : undefined;
  for (const [field, value] of [
    ["model", config.model],
    ["train.pretrained", pretrained],
  ] as const) {
    if (!value) continue;
    const ref = parseJobWeightsRef(value);
    if (ref) {
      const fetched = await fetchJobWeights(ref, field, job.teamId, inputsDir, deps);
      if ("problem" in fetched) return fetched;
      out.env.WYOLO_INPUTS_DIR = inputsDir;
      out.notes.push(fetched.note);
      continue;
    }
    // Named weights: WEIGHTS_DIR, else the object store's WEIGHTS_S3_PREFIX (cached on this worker).
    const weights = await locateWeights(value, env, deps.store);
    if ("problem" in weights) return { failureClass: "INVALID_ARGUMENT", problem: weights.problem };
    if (weights.fetched) deps.log.info({ key: weights.fetched }, "named weights from the object store");
    if (weights.dir) {
      if (!staysInside(weights.dir, value)) {
        return {
          failureClass: "PATH_NOT_ALLOWED",
          problem: `\`${field}\` (${value}) leads outside the weights directory once symlinks are followed; refused`,
        };
      }
      out.env.WYOLO_WEIGHTS_DIR ??= weights.dir;
    }
  }
  // Last: a refusal above must not leave the version held in the cache.
  if (fromVersion) {
    const version = await fetchDatasetVersion(job, deps);
    if ("problem" in version) return version;
    Object.assign(out.env, version.env);
    out.notes.push(version.note);
    out.release = version.release;
  }
  return out;
}

const versionSelect = {
  id: true,
  version: true,
  status: true,
  manifestHash: true,
  manifestKey: true,
  dataset: { select: { name: true, teamId: true } },
} as const;

/**
 * `data: dataset:<name>@vN`: the version the job recorded (checked again here: this team's, READY),
 * in the worker's dataset cache. The trainer gets the cache folder and the data.yaml (or classify
 * folder) in it, and trains from nothing else.
 */
async function fetchDatasetVersion(
  job: { id: string; teamId: string; config: TrainingConfig },
  { env, db, store, log, signal }: { env: WorkerEnv; db: Db; store: ArtifactStore | undefined; log: Logger; signal?: AbortSignal },
): Promise<{ env: Record<string, string>; note: string; release: () => void } | Refusal> {
  const named = job.config.train.data;
  const ref = parseDatasetRef(named);
  if (!ref) return { failureClass: "INVALID_ARGUMENT", problem: `\`train.data\` (${named}) is not a dataset version: dataset:<name>@v<N>` };
  const row = await db.trainingJob.findUnique({ where: { id: job.id }, select: { datasetVersionId: true } });
  const recorded = row?.datasetVersionId ?? null;
  if (!recorded && ref.version === "latest")
    return {
      failureClass: "INVALID_ARGUMENT",
      problem: `\`train.data\` (${named}): @latest is resolved when a job is submitted, and this job has no recorded version; submit it again`,
    };
  const version = recorded
    ? await db.datasetVersion.findUnique({ where: { id: recorded }, select: versionSelect })
    : await db.datasetVersion.findFirst({
        where: { version: ref.version as number, dataset: { teamId: job.teamId, name: ref.name } },
        select: versionSelect,
      });
  if (!version)
    return { failureClass: "DATASET_NOT_FOUND", problem: `\`train.data\` names ${named}, which is not a dataset version of this team` };
  // Checked again here, from the database: the web app's check may have been bypassed.
  if (version.dataset.teamId !== job.teamId)
    return { failureClass: "PATH_NOT_ALLOWED", problem: `\`train.data\` names a dataset version of another team; refused` };
  const label = datasetVersionLabel(version.dataset.name, version.version);
  if (ref.version !== "latest" && (ref.name !== version.dataset.name || ref.version !== version.version))
    return { failureClass: "INVALID_ARGUMENT", problem: `\`train.data\` says ${named}, but the job recorded ${label}` };
  if (version.status !== "READY" || !version.manifestHash || !version.manifestKey)
    return {
      failureClass: "DATASET_INVALID",
      problem: `${label} is ${version.status.toLowerCase()}: only versions that passed validation (READY) are trained from`,
    };
  if (!store)
    return {
      failureClass: "INVALID_ARGUMENT",
      problem: `\`train.data\` names ${label}, but this worker has no object store configured (S3_ENDPOINT), which dataset versions are fetched from`,
    };
  // A row made around the web app (or before datasetVersionId existed) records its version now.
  if (!recorded) await db.trainingJob.updateMany({ where: { id: job.id, datasetVersionId: null }, data: { datasetVersionId: version.id } });
  const cache = workerDatasetCache(env);
  try {
    const got = await cache.acquire(
      { teamId: job.teamId, manifestHash: version.manifestHash, manifestKey: version.manifestKey, label },
      store,
      signal,
    );
    const size = `${got.files.toLocaleString("en-US")} files, ${formatBytes(got.bytes)}`;
    const seconds = (got.ms / 1000).toFixed(1);
    const note =
      got.outcome === "hit"
        ? `Dataset ${label}: cache hit (${size}) on ${env.WORKER_NAME}`
        : got.outcome === "fetched"
          ? `Dataset ${label}: fetched ${size} from the object store in ${seconds} s, each file's sha256 checked`
          : `Dataset ${label}: fetched by another job on ${env.WORKER_NAME} (${size}); ready after ${seconds} s`;
    log.info({ dataset: label, outcome: got.outcome, files: got.files, bytes: got.bytes, ms: got.ms }, "dataset version ready");
    return { env: { WYOLO_DATASET_CACHE_DIR: datasetCacheRoot(env), WYOLO_DATA: got.data }, note, release: got.release };
  } catch (err) {
    if (err instanceof DatasetCacheError) return { failureClass: err.failureClass, problem: err.message };
    // Stopped (a cancel or a shutdown): the caller's signal says which; nothing of the fetch is kept.
    if (signal?.aborted) throw err;
    log.warn({ err: { message: (err as Error).message }, dataset: label }, "could not fetch a dataset version");
    return {
      failureClass: "INVALID_ARGUMENT",
      problem: `${label} could not be fetched from the object store: ${(err as Error).message.slice(0, 300)}`,
    };
  }
}

async function fetchJobWeights(
  ref: JobWeightsRef,
  field: string,
  teamId: string,
  inputsDir: string,
  { db, store, log }: { db: Db; store: ArtifactStore | undefined; log: Logger },
): Promise<{ note: string } | Refusal> {
  const named = `job:${ref.jobId}/${ref.file}`;
  // Checked again here, from the database: the web app's check may have been bypassed.
  const source = await db.trainingJob.findUnique({ where: { id: ref.jobId }, select: { project: { select: { teamId: true } } } });
  if (!source || source.project.teamId !== teamId)
    return { failureClass: "PATH_NOT_ALLOWED", problem: `\`${field}\` names ${named}, which is not a job of this team; refused` };
  if (!store)
    return {
      failureClass: "INVALID_ARGUMENT",
      problem: `\`${field}\` names ${named}, but this worker has no object store configured (S3_ENDPOINT), which fine-tuning from an earlier job needs`,
    };
  const dest = path.join(inputsDir, inputFileName(ref));
  mkdirSync(inputsDir, { recursive: true });
  // Twice: the referenced job may replace its weights (new key) between our read and the download.
  for (let attempt = 1; ; attempt++) {
    const artifact = await db.jobArtifact.findUnique({
      where: { jobId_name: { jobId: ref.jobId, name: jobWeightsArtifactName(ref) } },
      select: { sha256: true, storageKey: true },
    });
    if (!artifact)
      return { failureClass: "INVALID_ARGUMENT", problem: `\`${field}\` names ${named}, but that job has no stored ${ref.file}` };
    if (existsSync(dest) && (await sha256(dest)) === artifact.sha256)
      return { note: `Starting from ${named} (already in the run's inputs, sha256 ${artifact.sha256.slice(0, 12)}…)` };
    try {
      await withRetryWindow(() => store.download(artifact.storageKey, dest), 60_000);
      if ((await sha256(dest)) === artifact.sha256)
        return { note: `Starting from ${named}: fetched from the object store, sha256 ${artifact.sha256.slice(0, 12)}… checked` };
      rmSync(dest, { force: true });
      if (attempt >= 2)
        return { failureClass: "INVALID_ARGUMENT", problem: `${named} in the object store does not match its recorded checksum` };
    } catch (err) {
      rmSync(dest, { force: true });
      log.warn({ err: { message: (err as Error).message }, ref: named }, "could not fetch a referenced job's weights");
      if (attempt >= 2)
        return {
          failureClass: "INVALID_ARGUMENT",
          problem: `${named} could not be fetched from the object store: ${(err as Error).message.slice(0, 300)}`,
        };
    }
  }
}
