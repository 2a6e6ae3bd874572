import { createHash, randomUUID } from "node:crypto";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { chmod, copyFile, mkdir, rename, rm, statfs, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { datasetBlobKey, isConfinedRelativePath, manifestSchema, type DatasetManifest, type FailureClass } from "@wyolo/contracts";
import { eachLimited } from "./blobs.ts";

/**
 * The worker's dataset cache (docs/datasets.md): one folder per manifest hash under `root`, fetched
 * from the version's content-addressed blobs, each file's sha256 checked, written aside and renamed
 * into place whole. One download per entry: jobs of this process share a promise, worker processes
 * on one host a lock folder. Entries are evicted least recently used first past `maxBytes`, never
 * while a job holds a lease on them.
 *
 *   <root>/<hash>/files/…       the version's files (read-only), as the manifest names them
 *   <root>/<hash>/data.yaml     written for the trainer: absolute `path`, splits, names
 *   <root>/<hash>/entry.json    what the entry holds (files, bytes, task, label)
 *   <root>/<hash>/last-used     its mtime orders eviction
 *   <root>/.locks/<hash>/       held while one process fetches the entry (mtime kept fresh)
 *   <root>/.leases/<hash>/<id>  one per job using the entry
 *   <root>/.tmp/, .trash/       fetches in progress, evictions in progress
 */

/** Where blobs come from (the worker's ArtifactStore). */
export type BlobSource = { open(key: string): Promise<{ body: Readable }> };

export type CacheSource = { teamId: string; manifestHash: string; manifestKey: string; label: string };

export type Acquired = {
  /** What the trainer trains from: the entry's data.yaml, or for classify the folder of its splits. */
  data: string;
  entryDir: string;
  /** hit: already here; fetched: this call downloaded it; shared: another job (of this or another process) did. */
  outcome: "hit" | "fetched" | "shared";
  files: number;
  bytes: number;
  ms: number;
  /** Ends this job's use of the entry (idempotent); until then it is never evicted. */
  release: () => void;
};

export type DatasetCacheOptions = {
  root: string;
  maxBytes: number;
  /** Blobs fetched at once. */
  concurrency?: number;
  /** A lock whose holder has not refreshed it this long is taken as abandoned. */
  lockStaleMs?: number;
  /** A lease of another host not refreshed this long is taken as abandoned (same host: its process is checked). */
  leaseStaleMs?: number;
  /** How long one blob may be retried while the object store fails transiently. */
  blobRetryMs?: number;
  onEvict?: (hash: string, bytes: number) => void;
};

/** A refusal the job fails with (the message is shown on its timeline). */
export class DatasetCacheError extends Error {
  constructor(
    message: string,
    readonly failureClass: FailureClass,
  ) {
    super(message);
    this.name = "DatasetCacheError";
  }
}

type EntryInfo = { manifestHash: string; label: string; task: string; files: number; bytes: number; data: string };

const HASH = /^[0-9a-f]{64}$/;
const HOST = os.hostname();
/** The host as it appears in a temporary folder's name (no dots: the name's fields are split on them). */
const HOST_TAG = HOST.replace(/[^A-Za-z0-9-]/g, "_");
/** Evictions and broken locks left in the trash this long are a dead process's (a live one finishes in moments). */
const TRASH_STALE_MS = 3_600_000;
const LEASE_TOUCH_MS = 60_000;

/** Kept for the paths a manifest may name: relative, no `..`, nothing the cache uses itself. */
function checkManifestPaths(manifest: DatasetManifest) {
  const seen = new Set<string>();
  for (const f of manifest.files) {
    if (!isConfinedRelativePath(f.path) || f.path.split("/").some((s) => s === "."))
      throw new DatasetCacheError(`The manifest names an unsafe path: ${JSON.stringify(f.path).slice(0, 200)}`, "DATASET_INVALID");
    if (seen.has(f.path)) throw new DatasetCacheError(`The manifest names ${f.path} twice`, "DATASET_INVALID");
    seen.add(f.path);
  }
  for (const split of Object.values(manifest.splits))
    if (!isConfinedRelativePath(split))
      throw new DatasetCacheError(`The manifest names an unsafe split folder: ${split}`, "DATASET_INVALID");
}

const yamlString = (s: string) => JSON.stringify(s);

/**
 * The data.yaml Ultralytics reads: JSON-quoted scalars (valid YAML), an absolute `path` to the
 * files, the manifest's splits and class names (and pose's keypoint shape).
 */
export function dataYaml(filesDir: string, manifest: DatasetManifest): string {
  const lines = ["# Written by the Wyolo worker from the dataset version's manifest", `path: ${yamlString(filesDir)}`];
  for (const [split, rel] of Object.entries(manifest.splits)) lines.push(`${split}: ${yamlString(rel)}`);
  lines.push(`nc: ${manifest.names.length}`, "names:");
  manifest.names.forEach((n, i) => lines.push(`  ${i}: ${yamlString(n)}`));
  if (manifest.kptShape) lines.push(`kpt_shape: [${manifest.kptShape.join(", ")}]`);
  if (manifest.flipIdx) lines.push(`flip_idx: [${manifest.flipIdx.join(", ")}]`);
  return lines.join("\n") + "\n";
}

/** classify trains from a folder holding its split folders: the splits' common parent under files/ (entry-relative). */
function classifyRoot(manifest: DatasetManifest): string {
  const parents = [...new Set(Object.values(manifest.splits).map((s) => path.posix.dirname(s)))];
  return parents.length === 1 && parents[0] !== "." ? path.join("files", ...parents[0]!.split("/")) : "files";
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A lock or lease file's holder is alive: same host → its process exists; another host → it refreshed the file lately. */
function holderAlive(file: string, staleMs: number): boolean {
  try {
    const owner = JSON.parse(readFileSync(file, "utf8")) as { pid?: number; host?: string };
    if (owner.host === HOST && typeof owner.pid === "number") return pidAlive(owner.pid);
    return Date.now() - statSync(file).mtimeMs < staleMs;
  } catch {
    // Not readable (being written, or gone): judged by its age when it is there at all.
    try {
      return Date.now() - statSync(file).mtimeMs < staleMs;
    } catch {
      return false;
    }
  }
}

const touch = (file: string) => {
  const now = new Date();
  try {
    utimesSync(file, now, now);
  } catch {
    writeFileSync(file, "");
  }
};

export class DatasetCache {
  readonly root: string;
  private readonly maxBytes: number;
  private readonly concurrency: number;
  private readonly lockStaleMs: number;
  private readonly leaseStaleMs: number;
  private readonly blobRetryMs: number;
  private readonly onEvict?: (hash: string, bytes: number) => void;
  /** This process's fetches under way: one per version, with its own signal, aborted once every waiter has given up. */
  private readonly inflight = new Map<string, Flight>();
  private readonly dirs: { tmp: string; locks: string; leases: string; trash: string };

  constructor(opts: DatasetCacheOptions) {
    this.root = path.resolve(opts.root);
    this.maxBytes = opts.maxBytes;
    this.concurrency = opts.concurrency ?? 16;
    this.lockStaleMs = opts.lockStaleMs ?? 30_000;
    this.leaseStaleMs = opts.leaseStaleMs ?? 5 * LEASE_TOUCH_MS;
    this.blobRetryMs = opts.blobRetryMs ?? 60_000;
    this.onEvict = opts.onEvict;
    this.dirs = {
      tmp: path.join(this.root, ".tmp"),
      locks: path.join(this.root, ".locks"),
      leases: path.join(this.root, ".leases"),
      trash: path.join(this.root, ".trash"),
    };
    for (const d of Object.values(this.dirs)) mkdirSync(d, { recursive: true });
    this.sweepLeftovers();
  }

  entryDir(hash: string) {
    return path.join(this.root, hash);
  }

  /**
   * The version's files in the cache, fetched when they are not there (or waited for while another
   * job fetches them), with a lease that keeps them until `release()`.
   */
  async acquire(source: CacheSource, blobs: BlobSource, signal?: AbortSignal): Promise<Acquired> {
    const started = Date.now();
    const hash = source.manifestHash;
    if (!HASH.test(hash)) throw new DatasetCacheError(`Not a manifest hash: ${hash.slice(0, 80)}`, "DATASET_INVALID");
    // The lease first: an eviction that starts after this sees it; one already under way is seen by ready().
    const release = this.lease(hash);
    try {
      let outcome: Acquired["outcome"] = "hit";
      let info = this.ready(hash);
      if (!info) {
        signal?.throwIfAborted();
        let flight = this.inflight.get(hash);
        const joined = flight !== undefined;
        if (!flight) {
          const controller = new AbortController();
          const started: Flight = {
            controller,
            waiters: 0,
            promise: this.fetchOnce(source, blobs, controller.signal).finally(() => {
              if (this.inflight.get(hash) === started) this.inflight.delete(hash);
            }),
          };
          // Settled or aborted, it is nobody's to wait for: no unhandled rejection.
          started.promise.catch(() => {});
          flight = started;
          this.inflight.set(hash, flight);
        }
        const got = await this.await(hash, flight, signal);
        info = got.info;
        outcome = !joined && got.fetchedHere ? "fetched" : "shared";
      }
      touchQuietly(path.join(this.entryDir(hash), "last-used"));
      if (outcome === "fetched") this.evict(hash);
      return {
        data: info.data,
        entryDir: this.entryDir(hash),
        outcome,
        files: info.files,
        bytes: info.bytes,
        ms: Date.now() - started,
        release,
      };
    } catch (err) {
      release();
      throw err;
    }
  }

  /**
   * One waiter's wait for a shared fetch: its own abort ends its wait only; the fetch itself stops
   * when the last waiter has aborted (a new caller then starts a fresh one).
   */
  private await(hash: string, flight: Flight, signal?: AbortSignal): Promise<{ info: EntryInfo; fetchedHere: boolean }> {
    if (!signal) {
      flight.waiters++; // never gives up: the fetch is never aborted for want of waiters
      return flight.promise;
    }
    flight.waiters++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        reject(signal.reason as Error);
        if (--flight.waiters > 0) return;
        if (this.inflight.get(hash) === flight) this.inflight.delete(hash);
        flight.controller.abort(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      flight.promise.then(
        (got) => {
          signal.removeEventListener("abort", onAbort);
          resolve(got);
        },
        (err: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(err as Error);
        },
      );
    });
  }

  /** The entry's description when it is whole and here (its data.yaml rewritten if the root moved). */
  private ready(hash: string): EntryInfo | null {
    const dir = this.entryDir(hash);
    try {
      const info = JSON.parse(readFileSync(path.join(dir, "entry.json"), "utf8")) as EntryInfo;
      if (info.data !== "data.yaml") return { ...info, data: path.join(dir, info.data) };
      const yamlPath = path.join(dir, "data.yaml");
      const text = readFileSync(yamlPath, "utf8");
      const pathLine = `path: ${yamlString(path.join(dir, "files"))}`;
      if (!text.split("\n").includes(pathLine)) {
        const tmp = `${yamlPath}.${randomUUID()}`;
        writeFileSync(tmp, text.replace(/^path: .*$/m, pathLine));
        renameSync(tmp, yamlPath);
      }
      return { ...info, data: yamlPath };
    } catch {
      return null; // not here, not whole, or being evicted
    }
  }

  /** One process fetches; the others wait for its entry (or take over a lock it abandoned). */
  private async fetchOnce(
    source: CacheSource,
    blobs: BlobSource,
    signal?: AbortSignal,
  ): Promise<{ info: EntryInfo; fetchedHere: boolean }> {
    const hash = source.manifestHash;
    const lockDir = path.join(this.dirs.locks, hash);
    for (;;) {
      signal?.throwIfAborted();
      const here = this.ready(hash);
      if (here) return { info: here, fetchedHere: false };
      try {
        mkdirSync(lockDir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        if (!holderAlive(path.join(lockDir, "owner.json"), this.lockStaleMs)) this.breakLock(lockDir);
        else await sleep(200, signal);
        continue;
      }
      writeFileSync(path.join(lockDir, "owner.json"), JSON.stringify({ pid: process.pid, host: HOST, at: new Date().toISOString() }));
      const heartbeat = setInterval(() => touchQuietly(path.join(lockDir, "owner.json")), Math.max(500, this.lockStaleMs / 4));
      heartbeat.unref();
      try {
        const already = this.ready(hash); // finished between our look and our lock
        if (already) return { info: already, fetchedHere: false };
        return { info: await this.fetch(source, blobs, signal), fetchedHere: true };
      } finally {
        clearInterval(heartbeat);
        rmSync(lockDir, { recursive: true, force: true });
      }
    }
  }

  /** Moved aside first (one breaker wins the rename), then removed. */
  private breakLock(lockDir: string) {
    const aside = path.join(this.dirs.trash, `lock-${path.basename(lockDir)}-${randomUUID()}`);
    try {
      renameSync(lockDir, aside);
      rmSync(aside, { recursive: true, force: true });
    } catch {
      // Someone else broke or released it first.
    }
  }

  private async fetch(source: CacheSource, blobs: BlobSource, signal?: AbortSignal): Promise<EntryInfo> {
    const hash = source.manifestHash;
    const manifestBytes = await this.get(blobs, source.manifestKey, signal);
    const got = createHash("sha256").update(manifestBytes).digest("hex");
    if (got !== hash)
      throw new DatasetCacheError(
        `The manifest of ${source.label} does not match its hash (${got.slice(0, 12)}… ≠ ${hash.slice(0, 12)}…)`,
        "DATASET_INVALID",
      );
    let manifest: DatasetManifest;
    try {
      manifest = manifestSchema.parse(JSON.parse(manifestBytes.toString("utf8")));
    } catch (err) {
      throw new DatasetCacheError(
        `The manifest of ${source.label} cannot be read: ${(err as Error).message.slice(0, 300)}`,
        "DATASET_INVALID",
      );
    }
    checkManifestPaths(manifest);
    const bytes = manifest.files.reduce((n, f) => n + f.size, 0);
    this.evict(hash, bytes);
    await this.checkSpace(bytes, source.label);

    const tmp = path.join(this.dirs.tmp, `${hash}.${HOST_TAG}.${process.pid}.${randomUUID().slice(0, 8)}`);
    const files = path.join(tmp, "files");
    try {
      // Each distinct content is fetched once; other paths with it are copies.
      const bySha = new Map<string, DatasetManifest["files"]>();
      for (const f of manifest.files) bySha.set(f.sha256, [...(bySha.get(f.sha256) ?? []), f]);
      const dirsMade = new Set<string>();
      const ensureDir = async (file: string) => {
        const d = path.dirname(file);
        if (!dirsMade.has(d)) {
          await mkdir(d, { recursive: true });
          dirsMade.add(d);
        }
      };
      const groups = [...bySha.values()];
      await eachLimited(
        groups,
        this.concurrency,
        async (group) => {
          const [first, ...rest] = group;
          const dest = path.join(files, ...first!.path.split("/"));
          await ensureDir(dest);
          await this.fetchBlob(blobs, source, first!, dest, signal);
          for (const other of rest) {
            const copy = path.join(files, ...other.path.split("/"));
            await ensureDir(copy);
            await copyFile(dest, copy);
            await chmod(copy, 0o444);
          }
        },
        signal,
      );
      const task = manifest.task;
      // Relative to the entry: "data.yaml", or classify's folder of splits ("files", "files/<parent>").
      const data = task === "classify" ? classifyRoot(manifest) : "data.yaml";
      if (task !== "classify") await writeFile(path.join(tmp, "data.yaml"), dataYaml(path.join(this.entryDir(hash), "files"), manifest));
      const info: EntryInfo = { manifestHash: hash, label: source.label, task, files: manifest.files.length, bytes, data };
      await writeFile(path.join(tmp, "manifest.json"), manifestBytes);
      await writeFile(path.join(tmp, "last-used"), "");
      // entry.json last; the rename below makes the whole entry visible at once.
      await writeFile(path.join(tmp, "entry.json"), JSON.stringify(info));
      try {
        await rename(tmp, this.entryDir(hash));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // Another fetcher (whose lock we broke as abandoned) got there first: theirs is as good.
        if ((code !== "ENOTEMPTY" && code !== "EEXIST") || !this.ready(hash)) throw err;
      }
      return this.ready(hash)!;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  private async get(blobs: BlobSource, key: string, signal?: AbortSignal): Promise<Buffer> {
    return this.retrying(
      async () => {
        const { body } = await blobs.open(key);
        const chunks: Buffer[] = [];
        for await (const c of body) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      },
      key,
      signal,
    );
  }

  /** One blob to `dest`, hashed as it streams; a wrong hash or size is fetched once more, then refused. */
  private async fetchBlob(
    blobs: BlobSource,
    source: CacheSource,
    file: DatasetManifest["files"][number],
    dest: string,
    signal?: AbortSignal,
  ) {
    const key = datasetBlobKey(source.teamId, file.sha256);
    for (let attempt = 1; ; attempt++) {
      const { digest, size } = await this.retrying(
        async () => {
          const { body } = await blobs.open(key);
          const hash = createHash("sha256");
          let size = 0;
          body.on("data", (c: Buffer) => {
            hash.update(c);
            size += c.length;
          });
          await pipeline(body, createWriteStream(dest), { signal });
          return { digest: hash.digest("hex"), size };
        },
        key,
        signal,
      );
      if (digest === file.sha256 && size === file.size) {
        await chmod(dest, 0o444);
        return;
      }
      rmSync(dest, { force: true });
      if (attempt >= 2)
        throw new DatasetCacheError(
          `${source.label}: ${file.path} in the object store does not match the manifest (sha256 ${digest.slice(0, 12)}…, ${size} bytes; expected ${file.sha256.slice(0, 12)}…, ${file.size} bytes); refused`,
          "DATASET_INVALID",
        );
    }
  }

  /** Transient object-store failures are retried with backoff for blobRetryMs; a missing object is refused at once. */
  private async retrying<T>(fn: () => Promise<T>, key: string, signal?: AbortSignal): Promise<T> {
    const giveUpAt = Date.now() + this.blobRetryMs;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await fn();
      } catch (err) {
        const name = (err as Error).name;
        if (name === "NoSuchKey" || name === "NotFound")
          throw new DatasetCacheError(`${key} is missing from the object store`, "DATASET_NOT_FOUND");
        if (name === "AbortError" || signal?.aborted) throw err;
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        const wait = Math.min(10_000, 250 * 2 ** (attempt - 1));
        if ((status !== undefined && status < 500 && status !== 429) || Date.now() + wait > giveUpAt) throw err;
        await sleep(wait, signal);
      }
    }
  }

  private async checkSpace(bytes: number, label: string) {
    try {
      const fs = await statfs(this.root);
      const free = fs.bavail * fs.bsize;
      if (free < bytes * 1.05 + 64 * 1024 * 1024)
        throw new DatasetCacheError(
          `${label} needs ${formatBytes(bytes)} in the dataset cache (${this.root}), but its disk has ${formatBytes(free)} free`,
          "DATASET_INVALID",
        );
    } catch (err) {
      if (err instanceof DatasetCacheError) throw err;
    }
  }

  /** A lease file for a job's use of the entry, refreshed while held. */
  private lease(hash: string): () => void {
    const dir = path.join(this.dirs.leases, hash);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${process.pid}-${randomUUID()}.json`);
    writeFileSync(file, JSON.stringify({ pid: process.pid, host: HOST, at: new Date().toISOString() }));
    const refresh = setInterval(() => touchQuietly(file), LEASE_TOUCH_MS);
    refresh.unref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      clearInterval(refresh);
      rmSync(file, { force: true });
      touchQuietly(path.join(this.entryDir(hash), "last-used"));
    };
  }

  /** Whether a job (of any process) holds the entry; abandoned leases are removed on the way. */
  inUse(hash: string): boolean {
    const dir = path.join(this.dirs.leases, hash);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return false;
    }
    let live = false;
    for (const name of names) {
      const file = path.join(dir, name);
      if (holderAlive(file, this.leaseStaleMs)) live = true;
      else rmSync(file, { force: true });
    }
    return live;
  }

  /** The cache's entries, least recently used first. */
  entries(): Array<{ hash: string; bytes: number; lastUsed: number; label: string }> {
    const out: Array<{ hash: string; bytes: number; lastUsed: number; label: string }> = [];
    for (const name of readdirSync(this.root)) {
      if (!HASH.test(name)) continue;
      try {
        const info = JSON.parse(readFileSync(path.join(this.root, name, "entry.json"), "utf8")) as EntryInfo;
        const lastUsed = statSync(path.join(this.root, name, "last-used")).mtimeMs;
        out.push({ hash: name, bytes: info.bytes, lastUsed, label: info.label });
      } catch {
        // Being evicted, or not an entry.
      }
    }
    return out.sort((a, b) => a.lastUsed - b.lastUsed);
  }

  /**
   * Least recently used entries out until the cache (plus `incoming` bytes about to be fetched)
   * fits maxBytes; never `keep`, never one in use. An entry is renamed into the trash first and
   * given back when a lease appeared meanwhile.
   */
  evict(keep?: string, incoming = 0): string[] {
    const entries = this.entries();
    let total = entries.reduce((n, e) => n + e.bytes, 0) + incoming;
    const evicted: string[] = [];
    for (const e of entries) {
      if (total <= this.maxBytes) break;
      if (e.hash === keep || this.inUse(e.hash)) continue;
      const aside = path.join(this.dirs.trash, `${e.hash}-${randomUUID().slice(0, 8)}`);
      try {
        renameSync(this.entryDir(e.hash), aside);
      } catch {
        continue;
      }
      if (this.inUse(e.hash)) {
        try {
          renameSync(aside, this.entryDir(e.hash));
          continue;
        } catch {
          // The job that just leased it found it missing and fetches it again.
        }
      }
      rmSync(aside, { recursive: true, force: true });
      total -= e.bytes;
      evicted.push(e.hash);
      this.onEvict?.(e.hash, e.bytes);
    }
    return evicted;
  }

  /** Fetches and evictions a dead process left half done. */
  private sweepLeftovers() {
    for (const name of readdirSync(this.dirs.tmp)) {
      const [, host, pid] = name.split(".");
      const full = path.join(this.dirs.tmp, name);
      const abandoned = host === HOST_TAG ? !pidAlive(Number(pid)) : Date.now() - statSafe(full) > 24 * 3_600_000;
      if (abandoned) rmSync(full, { recursive: true, force: true });
    }
    for (const name of readdirSync(this.dirs.trash)) {
      const full = path.join(this.dirs.trash, name);
      if (Date.now() - statSafe(full) > TRASH_STALE_MS) rmSync(full, { recursive: true, force: true });
    }
  }
}

function statSafe(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

function touchQuietly(file: string) {
  if (!existsSync(file)) return;
  try {
    touch(file);
  } catch {
    // Gone meanwhile.
  }
}

type Flight = {
  promise: Promise<{ info: EntryInfo; fetchedHere: boolean }>;
  controller: AbortController;
  /** Waiters still waiting with a signal of their own, plus those without one (they never give up). */
  waiters: number;
};

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** The cache's folder: DATASET_CACHE_DIR, else WORKER_DATA_DIR/dataset-cache. */
export const datasetCacheRoot = (env: { DATASET_CACHE_DIR?: string; WORKER_DATA_DIR: string }) =>
  path.resolve(env.DATASET_CACHE_DIR ?? path.join(env.WORKER_DATA_DIR, "dataset-cache"));

const caches = new Map<string, DatasetCache>();

/** One cache per folder in this process, so that its jobs share downloads. */
export function workerDatasetCache(env: {
  DATASET_CACHE_DIR?: string;
  WORKER_DATA_DIR: string;
  DATASET_CACHE_MAX_BYTES: number;
  DATASET_FETCH_CONCURRENCY: number;
}): DatasetCache {
  const root = datasetCacheRoot(env);
  let cache = caches.get(root);
  if (!cache) {
    cache = new DatasetCache({ root, maxBytes: env.DATASET_CACHE_MAX_BYTES, concurrency: env.DATASET_FETCH_CONCURRENCY });
    caches.set(root, cache);
  }
  return cache;
}
