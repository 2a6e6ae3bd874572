// Test fixture (cache.test.ts): another worker process fetching into the same cache folder, from
// an object store stood in for by files, each GET slowed by SLOW_MS so that it can be killed mid-fetch.
import { createReadStream } from "node:fs";
import path from "node:path";
import { DatasetCache, type CacheSource } from "./cache.ts";

const slowMs = Number(process.env.SLOW_MS ?? 0);
const cache = new DatasetCache({ root: process.env.CACHE_ROOT!, maxBytes: 1e12, concurrency: 1 });
const got = await cache.acquire(JSON.parse(process.env.SOURCE!) as CacheSource, {
  async open(key) {
    await new Promise((r) => setTimeout(r, slowMs));
    return { body: createReadStream(path.join(process.env.BLOBS_DIR!, key)) };
  },
});
process.stdout.write(JSON.stringify({ outcome: got.outcome }) + "\n");
got.release();
