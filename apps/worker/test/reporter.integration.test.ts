import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workersKey, type WorkerReport } from "@wyolo/contracts";
import type { WorkerEnv } from "../src/env.ts";
import { GpuAllocator } from "../src/gpus.ts";
import { createLogger } from "../src/logger.ts";
import { WorkerReporter } from "../src/reporter.ts";

// An object store that takes the listing request and never answers: the inventory scan then
// takes its full 5 s S3 timeout, as a slow bucket or network storage would.
const S3_PORT = 5832;
let listings = 0;
const hanging: Server = createServer(() => void listings++);
const dir = mkdtempSync(path.join(tmpdir(), "wyolo-reporter-"));
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");

beforeAll(() => new Promise<void>((r) => hanging.listen(S3_PORT, "127.0.0.1", r)));
afterAll(async () => {
  hanging.closeAllConnections();
  await new Promise((r) => hanging.close(r));
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe("worker reporter", () => {
  it("reports at once while the inventory is scanned in the background, one scan at a time, then the finished scan", async () => {
    mkdirSync(path.join(dir, "weights"));
    writeFileSync(path.join(dir, "weights/yolo11n.pt"), "x");
    const env = {
      WORKER_NAME: "reporter-test",
      TRAINING_QUEUE: process.env.TRAINING_QUEUE!,
      NVIDIA_SMI: path.join(dir, "no-nvidia-smi"),
      REPORT_INTERVAL_MS: 5_000,
      WORKER_DATA_DIR: dir,
      DATASETS_DIR: path.join(dir, "datasets"),
      WEIGHTS_DIR: path.join(dir, "weights"),
      WEIGHTS_S3_PREFIX: "weights/",
      S3_ENDPOINT: `http://127.0.0.1:${S3_PORT}`,
      S3_BUCKET: "wyolo",
      S3_REGION: "us-east-1",
      S3_FORCE_PATH_STYLE: true,
      S3_ACCESS_KEY_ID: "test",
      S3_SECRET_ACCESS_KEY: "test",
    } as WorkerEnv;
    const reporter = new WorkerReporter(
      redis,
      env,
      1,
      { ok: true, details: {} },
      new GpuAllocator({ minFreeMb: 0, maxUtilizationPercent: 100 }),
      { running: () => [], draining: () => false, exportFormats: [] },
      createLogger("silent", "reporter-test"),
    );
    const sent = async () => JSON.parse((await redis.hget(workersKey(env.TRAINING_QUEUE), env.WORKER_NAME))!) as WorkerReport;

    // Reports while the scan hangs on the object store: each is out within its short wait, without an inventory.
    const started = Date.now();
    await Promise.all([reporter.report(), reporter.report(), reporter.report()]);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((await sent()).inventory).toBeUndefined();
    expect(listings).toBe(1);

    // Once the scan gives up on the object store (5 s), the next report carries what it found.
    let inventory: WorkerReport["inventory"];
    for (const deadline = Date.now() + 10_000; !inventory && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 500));
      await reporter.report();
      inventory = (await sent()).inventory;
    }
    expect(inventory).toEqual({ weights: ["yolo11n.pt"], datasets: [], truncated: false });
    // Within the minute, reports reuse that result: no second listing.
    await reporter.report();
    expect(listings).toBe(1);
    await redis.hdel(workersKey(env.TRAINING_QUEUE), env.WORKER_NAME);
  }, 20_000);
});
