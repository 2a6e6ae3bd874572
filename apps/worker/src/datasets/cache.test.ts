import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { datasetBlobKey, datasetManifestKey, type DatasetManifest } from "@wyolo/contracts";
import { DatasetCache, DatasetCacheError, type BlobSource } from "./cache.ts";

const TEAM = "team1";
const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** An object store in memory that counts GETs per key; `slowMs` delays each answer. */
function memoryStore(slowMs = 0) {
  const objects = new Map<string, Buffer>();
  const gets = new Map<string, number>();
  const source: BlobSource = {
    async open(key) {
      gets.set(key, (gets.get(key) ?? 0) + 1);
      if (slowMs) await new Promise((r) => setTimeout(r, slowMs));
      const body = objects.get(key);
      if (!body) throw Object.assign(new Error("The specified key does not exist."), { name: "NoSuchKey" });
      return { body: Readable.from([body]) };
    },
  };
  const blobGets = () => [...gets].filter(([k]) => k.includes("/blobs/")).reduce((n, [, c]) => n + c, 0);
  return { objects, gets, source, blobGets };
}

type Files = Record<string, string | Buffer>;

/** A version stored as the validator stores it: blobs by sha256, the manifest's bytes keyed by their hash. */
function storeVersion(store: ReturnType<typeof memoryStore>, files: Files, over: Partial<DatasetManifest> = {}) {
  const entries = Object.entries(files)
    .map(([p, c]) => ({ path: p, sha256: sha(c), size: Buffer.byteLength(c) }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const [p, c] of Object.entries(files))
    store.objects.set(datasetBlobKey(TEAM, entries.find((e) => e.path === p)!.sha256), Buffer.from(c));
  const manifest: DatasetManifest = {
    version: 1,
    task: "detect",
    names: ["circle", "square"],
    splits: { train: "images/train", val: "images/val" },
    files: entries,
    ...over,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const hash = sha(bytes);
  store.objects.set(datasetManifestKey(TEAM, hash), bytes);
  return {
    teamId: TEAM,
    manifestHash: hash,
    manifestKey: datasetManifestKey(TEAM, hash),
    label: "shapes@v1",
    bytes: entries.reduce((n, e) => n + e.size, 0),
  };
}

const shapes = (tag = "", size = 100): Files => ({
  "images/train/a.jpg": `a${tag}`.padEnd(size, "."),
  "images/train/b.jpg": `b${tag}`.padEnd(size, "."),
  "labels/train/a.txt": "0 0.5 0.5 0.2 0.2\n",
  "labels/train/b.txt": "0 0.5 0.5 0.2 0.2\n", // same content as a.txt: one blob, two files
  "images/val/c.jpg": `c${tag}`.padEnd(size, "."),
  "data.yaml": "names: [circle, square]\n", // the upload's own, kept as a file
});

const roots: string[] = [];
const newRoot = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "wyolo-cache-test-"));
  roots.push(dir);
  return path.join(dir, "cache");
};
afterEach(() => roots.splice(0));

describe("dataset cache", () => {
  it("fetches a version once, checks it and writes its data.yaml; the next job is a hit without a GET", async () => {
    const store = memoryStore();
    const v = storeVersion(store, shapes());
    const cache = new DatasetCache({ root: newRoot(), maxBytes: 1e9 });
    const first = await cache.acquire(v, store.source);
    expect(first).toMatchObject({ outcome: "fetched", files: 6, data: path.join(cache.root, v.manifestHash, "data.yaml") });
    // One GET per distinct content (a.txt and b.txt share one), plus the manifest.
    expect(store.blobGets()).toBe(5);
    const files = path.join(cache.root, v.manifestHash, "files");
    for (const [p, c] of Object.entries(shapes())) expect(readFileSync(path.join(files, p), "utf8"), p).toBe(c);
    expect(statSync(path.join(files, "labels/train/b.txt")).mode & 0o222).toBe(0); // read-only
    const yaml = readFileSync(first.data, "utf8");
    expect(yaml).toContain(`path: ${JSON.stringify(files)}`);
    expect(yaml).toContain('train: "images/train"');
    expect(yaml).toContain('  1: "square"');
    first.release();

    const before = store.gets.size && [...store.gets.values()].reduce((a, b) => a + b, 0);
    const again = await cache.acquire(v, store.source);
    expect(again.outcome).toBe("hit");
    expect([...store.gets.values()].reduce((a, b) => a + b, 0)).toBe(before);
    again.release();
    // A new cache object on the same folder (a restarted worker) finds it too.
    const restarted = await new DatasetCache({ root: cache.root, maxBytes: 1e9 }).acquire(v, store.source);
    expect(restarted.outcome).toBe("hit");
    restarted.release();
  });

  it("shares one download between concurrent jobs of a process, and between processes on one folder", async () => {
    const store = memoryStore(30);
    const v = storeVersion(store, shapes());
    const root = newRoot();
    const cache = new DatasetCache({ root, maxBytes: 1e9, concurrency: 2 });
    // A second cache object on the same folder stands for another worker process (its own in-process map).
    const other = new DatasetCache({ root, maxBytes: 1e9, concurrency: 2 });
    const got = await Promise.all([cache.acquire(v, store.source), cache.acquire(v, store.source), other.acquire(v, store.source)]);
    expect(got.map((g) => g.outcome).sort()).toEqual(["fetched", "shared", "shared"]);
    expect(store.blobGets()).toBe(5);
    expect(store.gets.get(v.manifestKey)).toBe(1);
    expect(new Set(got.map((g) => g.data)).size).toBe(1);
    got.forEach((g) => g.release());
    expect(readdirSync(path.join(root, ".locks"))).toEqual([]);
  });

  it("a shared fetch outlives the abort of the job that started it; it stops once every waiter has aborted", async () => {
    const store = memoryStore(40);
    const v = storeVersion(store, shapes());
    const cache = new DatasetCache({ root: newRoot(), maxBytes: 1e9, concurrency: 1 });
    // The first caller (a validation stopping on shutdown) aborts; the one that joined it (a training) still gets the files.
    const first = new AbortController();
    const a = cache.acquire(v, store.source, first.signal);
    const b = cache.acquire(v, store.source, new AbortController().signal);
    await new Promise((r) => setTimeout(r, 60));
    first.abort(new Error("the worker is stopping"));
    await expect(a).rejects.toThrow("the worker is stopping");
    const got = await b;
    expect(got.outcome).toBe("shared");
    expect(readFileSync(path.join(got.entryDir, "files", "images/train/a.jpg"), "utf8")).toBe(shapes()["images/train/a.jpg"]);
    got.release();

    // Every waiter gone: the fetch stops (no more GETs), and the next caller starts afresh.
    const w = storeVersion(store, shapes("w"));
    const [x, y] = [new AbortController(), new AbortController()];
    const p1 = cache.acquire(w, store.source, x.signal);
    const p2 = cache.acquire(w, store.source, y.signal);
    await new Promise((r) => setTimeout(r, 60));
    x.abort(new Error("x stopped"));
    y.abort(new Error("y stopped"));
    await expect(p1).rejects.toThrow("x stopped");
    await expect(p2).rejects.toThrow("y stopped");
    await new Promise((r) => setTimeout(r, 150));
    const gets = [...store.gets.values()].reduce((n, c) => n + c, 0);
    await new Promise((r) => setTimeout(r, 150));
    expect([...store.gets.values()].reduce((n, c) => n + c, 0)).toBe(gets);
    expect(existsSync(path.join(cache.root, w.manifestHash, "entry.json"))).toBe(false);
    const fresh = await cache.acquire(w, store.source);
    expect(fresh.outcome).toBe("fetched");
    fresh.release();
  });

  it("takes over from a process killed while it fetched (its lock is abandoned), in another real process", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "wyolo-cache-proc-"));
    const blobsDir = path.join(dir, "store");
    const root = path.join(dir, "cache");
    const store = memoryStore();
    const v = storeVersion(store, shapes("", 10_000));
    for (const [key, body] of store.objects) {
      mkdirSync(path.dirname(path.join(blobsDir, key)), { recursive: true });
      writeFileSync(path.join(blobsDir, key), body);
    }
    // The child fetches from files, slowly, and is killed once it holds the lock.
    const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "cache-child.fixture.ts")], {
      env: { ...process.env, CACHE_ROOT: root, BLOBS_DIR: blobsDir, SOURCE: JSON.stringify(v), SLOW_MS: "2000" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lock = path.join(root, ".locks", v.manifestHash);
    for (let i = 0; i < 600 && !existsSync(path.join(lock, "owner.json")); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(path.join(lock, "owner.json"))).toBe(true);
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
    const cache = new DatasetCache({ root, maxBytes: 1e9 });
    const got = await cache.acquire(v, store.source);
    expect(got.outcome).toBe("fetched");
    expect(readFileSync(path.join(got.entryDir, "files/images/val/c.jpg"), "utf8")).toBe(shapes("", 10_000)["images/val/c.jpg"]);
    got.release();
    // Its half-written folder is gone once a cache opens the folder again.
    new DatasetCache({ root, maxBytes: 1e9 });
    expect(readdirSync(path.join(root, ".tmp"))).toEqual([]);
  }, 60_000);

  it("evicts the least recently used entries past the cap, never one a job holds", async () => {
    const store = memoryStore();
    const a = storeVersion(store, shapes("A", 1000));
    const b = storeVersion(store, shapes("B", 1000));
    const c = storeVersion(store, shapes("C", 1000));
    const d = storeVersion(store, shapes("D", 1000));
    const evicted: string[] = [];
    // Room for two versions (each ~3 kB).
    const cache = new DatasetCache({ root: newRoot(), maxBytes: 2 * a.bytes + 100, onEvict: (h) => evicted.push(h) });
    const tick = () => new Promise((r) => setTimeout(r, 20)); // distinct last-used times
    (await cache.acquire(a, store.source)).release();
    await tick();
    (await cache.acquire(b, store.source)).release();
    await tick();
    (await cache.acquire(a, store.source)).release(); // a used again: b is now the oldest
    await tick();
    (await cache.acquire(c, store.source)).release();
    expect(evicted).toEqual([b.manifestHash]);
    expect(cache.entries().map((e) => e.hash)).toEqual([a.manifestHash, c.manifestHash]);

    // a is held by a running job: d pushes c out instead, although a is older.
    const held = await cache.acquire(a, store.source);
    await tick();
    (await cache.acquire(d, store.source)).release();
    expect(evicted).toEqual([b.manifestHash, c.manifestHash]);
    expect(existsSync(path.join(held.data))).toBe(true);
    // Over the cap while everything left is held or just fetched: nothing else goes.
    const heldD = await cache.acquire(d, store.source);
    (await cache.acquire(b, store.source)).release();
    expect(
      cache
        .entries()
        .map((e) => e.hash)
        .sort(),
    ).toEqual([a.manifestHash, b.manifestHash, d.manifestHash].sort());
    held.release();
    heldD.release();
    // Released: the next fetch makes room again.
    (await cache.acquire(c, store.source)).release();
    expect(cache.entries().reduce((n, e) => n + e.bytes, 0)).toBeLessThanOrEqual(2 * a.bytes + 100);
  });

  it("refuses a blob whose content does not match the manifest, after one more try, and keeps nothing of it", async () => {
    const store = memoryStore();
    const v = storeVersion(store, shapes());
    const key = datasetBlobKey(TEAM, sha(shapes()["images/val/c.jpg"]!));
    store.objects.set(key, Buffer.from("tampered".padEnd(100, ".")));
    const cache = new DatasetCache({ root: newRoot(), maxBytes: 1e9 });
    const err = await cache.acquire(v, store.source).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatasetCacheError);
    expect(err).toMatchObject({ failureClass: "DATASET_INVALID" });
    expect((err as Error).message).toMatch(/images\/val\/c\.jpg in the object store does not match the manifest/);
    expect(store.gets.get(key)).toBe(2);
    expect(existsSync(path.join(cache.root, v.manifestHash))).toBe(false);
    expect(readdirSync(path.join(cache.root, ".tmp"))).toEqual([]);
    expect(readdirSync(path.join(cache.root, ".leases", v.manifestHash))).toEqual([]);
    expect(readdirSync(path.join(cache.root, ".locks"))).toEqual([]);
  });

  it("refuses a manifest that does not match its hash, a missing blob and a path leaving the entry", async () => {
    const store = memoryStore();
    const cache = new DatasetCache({ root: newRoot(), maxBytes: 1e9 });
    const v = storeVersion(store, shapes());
    store.objects.set(v.manifestKey, Buffer.concat([store.objects.get(v.manifestKey)!, Buffer.from(" ")]));
    await expect(cache.acquire(v, store.source)).rejects.toMatchObject({
      failureClass: "DATASET_INVALID",
      message: /does not match its hash/,
    });

    const w = storeVersion(store, { "images/train/z.jpg": "zzz" });
    store.objects.delete(datasetBlobKey(TEAM, sha("zzz")));
    await expect(cache.acquire(w, store.source)).rejects.toMatchObject({ failureClass: "DATASET_NOT_FOUND", message: /missing/ });

    for (const bad of ["../escape.txt", "images/../../x", "/etc/passwd", "a//b"]) {
      const u = storeVersion(store, { [bad]: "x" });
      await expect(cache.acquire(u, store.source), bad).rejects.toMatchObject({ failureClass: "DATASET_INVALID", message: /unsafe path/ });
    }
    expect(readdirSync(cache.root).filter((n) => !n.startsWith("."))).toEqual([]);
  });

  it("gives a classify version as the folder of its splits, and rewrites data.yaml when the cache folder moved", async () => {
    const store = memoryStore();
    const cls = storeVersion(
      store,
      { "train/cat/1.jpg": "1", "train/dog/2.jpg": "2", "val/cat/3.jpg": "3", "val/dog/4.jpg": "4" },
      { task: "classify", names: ["cat", "dog"], splits: { train: "train", val: "val" } },
    );
    const root = newRoot();
    const got = await new DatasetCache({ root, maxBytes: 1e9 }).acquire(cls, store.source);
    expect(got.data).toBe(path.join(root, cls.manifestHash, "files"));
    expect(existsSync(path.join(got.entryDir, "data.yaml"))).toBe(false);
    got.release();

    const det = storeVersion(store, shapes());
    (await new DatasetCache({ root, maxBytes: 1e9 }).acquire(det, store.source)).release();
    const moved = path.join(path.dirname(root), "moved");
    renameSync(root, moved);
    const hit = await new DatasetCache({ root: moved, maxBytes: 1e9 }).acquire(det, store.source);
    expect(hit.outcome).toBe("hit");
    expect(readFileSync(hit.data, "utf8")).toContain(`path: ${JSON.stringify(path.join(moved, det.manifestHash, "files"))}`);
    hit.release();
  });
});
