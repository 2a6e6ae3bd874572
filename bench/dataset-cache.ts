// The worker's dataset cache (apps/worker/src/datasets/cache.ts) against an S3 server in its own
// process (s3rver, as in the quickstart and tests): a generated version of BENCH_DATASET_IMAGES images
// of BENCH_DATASET_IMAGE_KB each (default 1,000 × 64 KB, plus their label files).
//   - cold fetch: an empty cache to a ready data.yaml (every blob's sha256 checked, written, renamed),
//     against raw S3 GETs of the same blobs with the same client and concurrency, bytes drained, in
//     the same run, interleaved (BENCH_ROUNDS each; medians). Goal: cold ≥ 0.8 × raw.
//   - cache hit: a new cache object on the filled folder (as a restarted worker) to a ready data.yaml. Goal ≤ 1 s.
// Prints one JSON line.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { DatasetObjects, eachLimited } from "../apps/worker/src/datasets/blobs.ts";
import { DatasetCache } from "../apps/worker/src/datasets/cache.ts";
import { shapesFiles, storeVersionObjects } from "../test/integration/dataset-fixtures.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const IMAGES = Number(process.env.BENCH_DATASET_IMAGES ?? 1_000);
const IMAGE_KB = Number(process.env.BENCH_DATASET_IMAGE_KB ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.DATASET_FETCH_CONCURRENCY ?? 16);
const info = (msg: string) => console.error(`bench: ${msg}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

const dir = mkdtempSync(path.join(os.tmpdir(), "wyolo-bench-cache-"));
const port = await freePort();
const s3rver = spawn(
  process.execPath,
  [path.join(ROOT, "node_modules/s3rver/bin/s3rver.js"), "-d", path.join(dir, "s3"), "-a", "127.0.0.1", "-p", String(port), "-s"],
  { stdio: "ignore" },
);
try {
  const env = {
    S3_ENDPOINT: `http://127.0.0.1:${port}`,
    S3_ACCESS_KEY_ID: "S3RVER",
    S3_SECRET_ACCESS_KEY: "S3RVER",
    S3_BUCKET: "wyolo-bench",
    S3_REGION: "us-east-1",
    S3_FORCE_PATH_STYLE: true,
  };
  for (let i = 0; ; i++) {
    if (
      await fetch(env.S3_ENDPOINT).then(
        () => true,
        () => false,
      )
    )
      break;
    if (i > 100) throw new Error("s3rver did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  info(`storing ${IMAGES.toLocaleString("en-US")} images of ${IMAGE_KB} KB…`);
  const files = shapesFiles({ images: Math.round(IMAGES / 1.2), imageBytes: IMAGE_KB * 1024, tag: "bench" });
  const stored = await storeVersionObjects(env, "bench-team", files);
  const source = { teamId: "bench-team", manifestHash: stored.manifestHash, manifestKey: stored.manifestKey, label: "bench@v1" };
  const objects = new DatasetObjects(env);

  const rawGet = async () => {
    const t = performance.now();
    await eachLimited(stored.blobKeys, CONCURRENCY, async (key) => {
      const { body } = await objects.open(key);
      for await (const chunk of body) void chunk;
    });
    return (performance.now() - t) / 1000;
  };
  const coldFetch = async (round: number) => {
    const root = path.join(dir, `cache-${round}`);
    const cache = new DatasetCache({ root, maxBytes: 1e12, concurrency: CONCURRENCY });
    const t = performance.now();
    const got = await cache.acquire(source, objects);
    const s = (performance.now() - t) / 1000;
    got.release();
    return { s, root };
  };

  info("warming the server's page cache…");
  await rawGet();
  const raw: number[] = [];
  const cold: number[] = [];
  let filled = "";
  for (let r = 0; r < ROUNDS; r++) {
    info(`round ${r + 1}/${ROUNDS}: raw GETs, then a cold fetch…`);
    raw.push(await rawGet());
    const c = await coldFetch(r);
    cold.push(c.s);
    if (filled) rmSync(filled, { recursive: true, force: true });
    filled = c.root;
  }

  const hits: number[] = [];
  for (let i = 0; i < 5; i++) {
    const cache = new DatasetCache({ root: filled, maxBytes: 1e12, concurrency: CONCURRENCY });
    const t = performance.now();
    const got = await cache.acquire(source, objects);
    hits.push(performance.now() - t);
    if (got.outcome !== "hit") throw new Error(`expected a cache hit, got ${got.outcome}`);
    got.release();
  }

  const mb = stored.blobBytes / 1024 / 1024;
  const rawMbps = mb / median(raw);
  const coldMbps = mb / median(cold);
  console.log(
    JSON.stringify({
      name: "dataset_cache",
      files: stored.files,
      blobs: stored.blobKeys.length,
      blobMB: round(mb),
      concurrency: CONCURRENCY,
      rounds: ROUNDS,
      rawGetMBps: round(rawMbps),
      coldFetchMBps: round(coldMbps),
      coldFetchSeconds: round(median(cold), 2),
      ratio: round(coldMbps / rawMbps, 2),
      ratioGoal: 0.8,
      cacheHitMs: round(median(hits)),
      cacheHitMaxMs: round(Math.max(...hits)),
      cacheHitGoalMs: 1000,
    }),
  );
} finally {
  s3rver.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
