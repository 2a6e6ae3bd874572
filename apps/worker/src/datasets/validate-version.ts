import { createHash } from "node:crypto";
import { copyFile, link, mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { DelayedError, UnrecoverableError } from "bullmq";
import { isDatabaseUnavailable, type Db } from "@wyolo/db";
import {
  datasetManifestKey,
  datasetVersionLabel,
  manifestSchema,
  REPORT_ISSUES_PER_CODE,
  type DatasetIssue,
  type DatasetManifest,
  type DatasetReport,
  type DatasetVersionStatus,
  type ManifestEntry,
  type ValidateDatasetPayload,
} from "@wyolo/contracts";
import type { JobContext } from "../catalog.ts";
import type { WorkerEnv } from "../env.ts";
import { requeueLater } from "../requeue.ts";
import { eachLimited, type DatasetObjects } from "./blobs.ts";
import { workerDatasetCache } from "./cache.ts";
import { ArchiveRefused, extractArchive } from "./extract.ts";
import { runValidator, type ValidationOutput } from "./validator.ts";

export type DatasetVersionEvent = { datasetId: string; versionId: string; status: DatasetVersionStatus };

export type ValidationRuntime = {
  env: WorkerEnv;
  db: Db;
  /** The object store (S3_ENDPOINT); a worker without one cannot validate. */
  objects: DatasetObjects | undefined;
  /** The live `dataset:version` event to the dataset's room. */
  publish: (event: DatasetVersionEvent) => void;
};

/** A file of the version being built: where it lies here, and its manifest entry. */
type LocalFile = ManifestEntry & { local: string };

const ITEM_BATCH = 2_000;
const BLOB_CONCURRENCY = 8;

/** The manifest's bytes as stored: keys in schema order, files sorted by path, no whitespace. Its sha256 is the manifest hash. */
export function canonicalManifest(m: DatasetManifest): Buffer {
  const files = [...m.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const ordered: DatasetManifest = {
    version: 1,
    task: m.task,
    names: m.names,
    splits: Object.fromEntries(Object.entries(m.splits).sort(([a], [b]) => (a < b ? -1 : 1))),
    ...(m.kptShape ? { kptShape: m.kptShape } : {}),
    ...(m.flipIdx ? { flipIdx: m.flipIdx } : {}),
    files: files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size })),
  };
  return Buffer.from(JSON.stringify(ordered));
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Adds a finding to a report, keeping the per-code cap. */
function addIssue(report: DatasetReport, issue: DatasetIssue) {
  const n = report.counts[issue.code] ?? 0;
  report.counts[issue.code] = n + 1;
  if (n < REPORT_ISSUES_PER_CODE) report.issues.push(issue);
  if (issue.severity === "error") report.ok = false;
}

/** "3 errors: corrupt_image 1, class_out_of_range 2" from a report's error codes. */
export function errorSummary(report: DatasetReport): string {
  const codes = [...new Set(report.issues.filter((i) => i.severity === "error").map((i) => i.code))];
  const total = codes.reduce((n, c) => n + (report.counts[c] ?? 0), 0);
  return `${total.toLocaleString("en-US")} error${total === 1 ? "" : "s"}: ${codes.map((c) => `${c} ${report.counts[c]}`).join(", ")}`;
}

const kindOf = (p: string, out: ValidationOutput | null) => (p === out?.yaml || /\.ya?ml$/i.test(p) ? "yaml" : "other");

/**
 * The `validate-dataset` job: an uploaded archive (and, for a version made from another, the
 * parent's files minus `removedPaths`) becomes an immutable version. Unpacked safely, every file
 * hashed and its blob stored once per team, checked by the Python validator; then in one
 * transaction the version's report, stats and items and READY or INVALID. A version no longer
 * VALIDATING is left alone, so a retry after the commit changes nothing. Postgres away (at any
 * point) spends no attempt: the job goes back to the queue as it is, however long the outage.
 */
export async function validateVersion(payload: ValidateDatasetPayload, ctx: JobContext, rt: ValidationRuntime) {
  try {
    return await validateVersionOnce(payload, ctx, rt);
  } catch (err) {
    if (!isDatabaseUnavailable(err)) throw err;
    // Not ours any more: the queue entry is another worker's to move.
    if (ctx.lease?.lost()) throw new DelayedError("lock lost");
    ctx.log.warn(
      { err: { message: (err as Error).message }, versionId: payload.versionId },
      "Postgres unavailable; the validation goes back to the queue for a later try",
    );
    return requeueLater(ctx.job, ctx.token, 5_000);
  }
}

async function validateVersionOnce({ versionId }: ValidateDatasetPayload, ctx: JobContext, rt: ValidationRuntime) {
  const { db, env } = rt;
  const row = await db.datasetVersion.findUnique({
    where: { id: versionId },
    select: {
      id: true,
      status: true,
      version: true,
      datasetId: true,
      uploadKey: true,
      removedPaths: true,
      dataset: { select: { teamId: true, name: true } },
      parent: { select: { id: true, version: true, manifestHash: true, manifestKey: true } },
    },
  });
  if (!row) throw new UnrecoverableError(`Dataset version ${versionId} has no database row; dropped`);
  const log = ctx.log.child({ versionId, dataset: row.dataset.name, version: row.version });
  if (row.status !== "VALIDATING") {
    // Validated before (a retry after the commit): only the archive may be left to remove.
    if (row.uploadKey && rt.objects) await rt.objects.remove(row.uploadKey).catch(() => {});
    return { status: row.status };
  }
  const teamId = row.dataset.teamId;
  const work = path.resolve(env.WORKER_DATA_DIR, "dataset-validation", versionId);

  /** Writes the outcome if the version is still VALIDATING; false when something else changed it meanwhile. */
  const finish = async (data: {
    status: "READY" | "INVALID";
    report: DatasetReport;
    out?: ValidationOutput;
    files?: LocalFile[];
    manifest?: { hash: string; key: string };
    failureReason?: string | null;
  }): Promise<boolean> => {
    const started = Date.now();
    const wrote = await db.$transaction(
      async (tx) => {
        const { count } = await tx.datasetVersion.updateMany({
          where: { id: versionId, status: "VALIDATING" },
          data: {
            status: data.status,
            report: data.report,
            stats: data.out?.stats ?? undefined,
            task: data.out?.task ?? null,
            classNames: data.out ? data.out.names : undefined,
            manifestHash: data.manifest?.hash ?? null,
            manifestKey: data.manifest?.key ?? null,
            fileCount: data.files?.length ?? null,
            totalBytes: data.files ? BigInt(data.files.reduce((n, f) => n + f.size, 0)) : null,
            failureReason: data.failureReason ?? null,
            workerName: env.WORKER_NAME,
            validatedAt: new Date(),
          },
        });
        if (count === 0) return false;
        await tx.datasetItem.deleteMany({ where: { versionId } });
        const rows = itemRows(versionId, data.files ?? [], data.out, data.report);
        for (let i = 0; i < rows.length; i += ITEM_BATCH) await tx.datasetItem.createMany({ data: rows.slice(i, i + ITEM_BATCH) });
        return true;
      },
      { timeout: 300_000, maxWait: 30_000 },
    );
    if (wrote) {
      rt.publish({ datasetId: row.datasetId, versionId, status: data.status });
      log.info({ status: data.status, files: data.files?.length ?? 0, commitMs: Date.now() - started }, "dataset version validated");
      if (row.uploadKey)
        await rt.objects
          ?.remove(row.uploadKey)
          .catch((err: Error) => log.warn({ err: { message: err.message } }, "could not remove the uploaded archive"));
    }
    return wrote;
  };

  try {
    if (!rt.objects) throw new Error(`Worker ${env.WORKER_NAME} has no object store configured (S3_ENDPOINT)`);
    await db.datasetVersion.updateMany({ where: { id: versionId, status: "VALIDATING" }, data: { workerName: env.WORKER_NAME } });
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    const report: DatasetReport = { ok: true, task: null, counts: {}, issues: [] };
    let files: LocalFile[];
    try {
      files = await gather(rt.objects, row, work, env, report, ctx.signal);
    } catch (err) {
      if (!(err instanceof ArchiveRefused)) throw err;
      log.info({ reason: err.message }, "dataset archive refused");
      await finish({
        status: "INVALID",
        report: { ok: false, task: null, counts: {}, issues: [], fatal: err.message.slice(0, 2000) },
        failureReason: err.message.slice(0, 2000),
      });
      return { status: "INVALID" };
    }
    const root = path.join(work, "root");
    const out = await runValidator({
      command: env.VALIDATOR_COMMAND,
      root,
      outFile: path.join(work, "validation.json"),
      procs: env.VALIDATOR_PROCS ?? (env.WORKER_CPU_CORES ? Math.max(1, Math.floor(env.WORKER_CPU_CORES)) : undefined),
      timeoutMs: env.VALIDATOR_TIMEOUT_MS,
      signal: ctx.signal,
    });
    for (const issue of report.issues) addIssue(out.report, issue);
    const known = new Set(row.parent ? files.filter((f) => f.local.startsWith(path.join(work, "parent"))).map((f) => f.sha256) : []);
    const stored = await rt.objects.storeBlobs(teamId, files, known, BLOB_CONCURRENCY, ctx.signal);
    let manifest: { hash: string; key: string } | undefined;
    if (out.task) {
      const bytes = canonicalManifest({
        version: 1,
        task: out.task,
        names: out.names,
        splits: out.splits,
        ...(out.kptShape ? { kptShape: out.kptShape } : {}),
        ...(out.flipIdx ? { flipIdx: out.flipIdx } : {}),
        files,
      });
      const hash = sha256(bytes);
      manifest = { hash, key: datasetManifestKey(teamId, hash) };
      await rt.objects.putBytes(manifest.key, bytes, "application/json");
    }
    const ok = out.report.ok && out.task !== null;
    log.info({ files: files.length, blobsUploaded: stored.uploaded, bytesUploaded: stored.uploadedBytes, ok }, "dataset checked");
    await finish({
      status: ok ? "READY" : "INVALID",
      report: out.report,
      out,
      files,
      manifest,
      failureReason: ok ? null : errorSummary(out.report),
    });
    const now = await db.datasetVersion.findUnique({ where: { id: versionId }, select: { status: true } });
    return { status: now?.status ?? (ok ? "READY" : "INVALID") };
  } catch (err) {
    // Postgres away is not the dataset's fault: validateVersion hands the job back without spending an attempt.
    if (err instanceof DelayedError || err instanceof UnrecoverableError || isDatabaseUnavailable(err)) throw err;
    // Stopping: another worker takes it from the start, without spending an attempt.
    if (ctx.signal.aborted) return requeueLater(ctx.job, ctx.token, 1_000);
    const attempts = ctx.job.opts.attempts ?? 1;
    log.warn(
      { err: { message: (err as Error).message }, attempt: ctx.job.attemptsMade + 1, attempts },
      "dataset validation attempt failed",
    );
    if (ctx.job.attemptsMade + 1 >= attempts) {
      const reason = `Validation could not finish (${attempts} attempt${attempts === 1 ? "" : "s"}): ${(err as Error).message}`.slice(
        0,
        2000,
      );
      await finish({ status: "INVALID", report: { ok: false, task: null, counts: {}, issues: [], fatal: reason }, failureReason: reason });
      throw new UnrecoverableError(reason);
    }
    throw err;
  } finally {
    await rm(work, { recursive: true, force: true }).catch(() => {});
  }
}

type VersionRow = {
  uploadKey: string | null;
  removedPaths: unknown;
  version: number;
  dataset: { teamId: string; name: string };
  parent: { id: string; version: number; manifestHash: string | null; manifestKey: string | null } | null;
};

/**
 * Puts the version's files under `<work>/root`: the parent's (from the worker's dataset cache, minus
 * `removedPaths`) overlaid with the archive's. Returns them with their hashes.
 */
async function gather(
  objects: DatasetObjects,
  row: VersionRow,
  work: string,
  env: WorkerEnv,
  report: DatasetReport,
  signal: AbortSignal,
): Promise<LocalFile[]> {
  const root = path.join(work, "root");
  const byPath = new Map<string, LocalFile>();
  // Made from a parent (the web records removedPaths only for those) whose row is gone since
  // (deleted: parentId set to null): the archive alone is not the version that was asked for.
  if (!row.parent && row.removedPaths !== null) throw new ArchiveRefused("Its parent version was deleted before validation");
  if (row.uploadKey) {
    const archive = path.join(work, "upload.archive");
    if ((await objects.download(row.uploadKey, archive)) === null)
      throw new ArchiveRefused("The uploaded archive is not in the object store");
    const extracted = await extractArchive(archive, path.join(work, "upload"), {
      maxFiles: env.DATASET_MAX_FILES,
      maxBytes: env.DATASET_MAX_BYTES,
    });
    await rm(archive, { force: true });
    for (const f of extracted.files) byPath.set(f.path, { ...f, local: path.join(extracted.root, ...f.path.split("/")) });
  } else if (!row.parent) throw new ArchiveRefused("Nothing was uploaded for this version");

  if (row.parent) {
    const parentLabel = datasetVersionLabel(row.dataset.name, row.parent.version);
    if (!row.parent.manifestHash || !row.parent.manifestKey)
      throw new ArchiveRefused(`${parentLabel} has no files to build on (its validation did not get that far)`);
    const removed = new Set(Array.isArray(row.removedPaths) ? row.removedPaths.filter((p): p is string => typeof p === "string") : []);
    const held = await workerDatasetCache(env).acquire(
      { teamId: row.dataset.teamId, manifestHash: row.parent.manifestHash, manifestKey: row.parent.manifestKey, label: parentLabel },
      objects,
      signal,
    );
    try {
      const manifest = manifestSchema.parse(JSON.parse(await readFile(path.join(held.entryDir, "manifest.json"), "utf8")));
      const parentPaths = new Set(manifest.files.map((f) => f.path));
      for (const p of removed)
        if (!parentPaths.has(p))
          addIssue(report, {
            severity: "warning",
            code: "removed_path_unknown",
            file: p.slice(0, 1024),
            message: `${parentLabel} has no such file`,
          });
      const kept = manifest.files.filter((f) => !removed.has(f.path) && !byPath.has(f.path));
      // Hard links into the work folder (the cache's files are read-only and stay as they are); a copy across file systems.
      await eachLimited(kept, 16, async (f) => {
        const local = path.join(work, "parent", ...f.path.split("/"));
        await mkdir(path.dirname(local), { recursive: true });
        const from = path.join(held.entryDir, "files", ...f.path.split("/"));
        await link(from, local).catch(() => copyFile(from, local));
        byPath.set(f.path, { ...f, local });
      });
    } finally {
      held.release();
    }
  }
  // One folder the validator reads: links to the files where they lie.
  const files = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  await eachLimited(files, 16, async (f) => {
    const at = path.join(root, ...f.path.split("/"));
    await mkdir(path.dirname(at), { recursive: true });
    await link(f.local, at).catch(() => copyFile(f.local, at));
  });
  return files;
}

/** DatasetItem rows: every file of the version, with what the validator found in images and label files. */
function itemRows(versionId: string, files: readonly LocalFile[], out: ValidationOutput | undefined, report: DatasetReport) {
  const seen = new Map((out?.items ?? []).map((i) => [i.path, i]));
  const errorsByFile = new Map<string, number>();
  for (const issue of report.issues)
    if (issue.severity === "error" && issue.file) errorsByFile.set(issue.file, (errorsByFile.get(issue.file) ?? 0) + 1);
  return files.map((f) => {
    const item = seen.get(f.path);
    return {
      versionId,
      path: f.path,
      sha256: f.sha256,
      size: BigInt(f.size),
      kind: item?.kind ?? kindOf(f.path, out ?? null),
      split: item?.split ?? null,
      width: item?.width ?? null,
      height: item?.height ?? null,
      labels: item?.labels ?? undefined,
      classIds: item?.classIds ?? [],
      errorCount: item?.errorCount ?? errorsByFile.get(f.path) ?? 0,
    };
  });
}
