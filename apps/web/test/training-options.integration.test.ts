import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARCHITECTURES, workersKey, type WorkerReport } from "@wyolo/contracts";
import * as optionsRoute from "@/app/api/v1/workers/training-options/route";
import { call, createUser, sessionCookie } from "../../../test/integration/helpers";
import { startWorker, waitFor, type WorkerHandle } from "../../../test/integration/worker-harness";

// A real worker process scans its WEIGHTS_DIR and DATASETS_DIR and reports them through Redis;
// the form's route offers what online workers reported, and nothing of an offline one.
const dir = mkdtempSync(path.join(tmpdir(), "wyolo-options-"));
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const name = `options-${process.pid}`;
let worker: WorkerHandle;
let cookie: string;

beforeAll(async () => {
  mkdirSync(path.join(dir, "weights"));
  writeFileSync(path.join(dir, "weights/yolo11n.pt"), "w");
  writeFileSync(path.join(dir, "weights/yolo11n-seg.pt"), "w");
  mkdirSync(path.join(dir, "datasets/shapes/images/train"), { recursive: true });
  writeFileSync(path.join(dir, "datasets/shapes/data.yaml"), "path: .\ntrain: images/train\nval: images/train\nnames: [a]\n");
  cookie = await sessionCookie(await createUser());
  const stale = new Date(Date.now() - 3_600_000).toISOString();
  const offline: WorkerReport = {
    name: `${name}-gone`,
    host: "h",
    pid: 1,
    startedAt: stale,
    lastSeen: stale,
    concurrency: 1,
    draining: false,
    trainer: { ok: true, details: {} },
    gpus: [],
    runningJobIds: [],
    inventory: { weights: ["secret.pt"], datasets: [{ path: "old/data.yaml", kind: "yaml" }], truncated: false },
  };
  await redis.hset(workersKey(process.env.TRAINING_QUEUE!), offline.name, JSON.stringify(offline));
  worker = startWorker(name, {
    WEIGHTS_DIR: path.join(dir, "weights"),
    DATASETS_DIR: path.join(dir, "datasets"),
    REPORT_INTERVAL_MS: "500",
  });
  await worker.ready;
});

afterAll(async () => {
  await worker.stop();
  await redis.del(workersKey(process.env.TRAINING_QUEUE!));
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe("GET /api/v1/workers/training-options", () => {
  it("architectures always; the online worker's weights (with their task) and datasets; nothing of an offline one", async () => {
    let body: any;
    await waitFor(async () => {
      body = (await call(optionsRoute.GET, { cookie })).body;
      return body.workers === 1;
    }, 15_000);
    expect(body.architectures).toHaveLength(ARCHITECTURES.length);
    expect(body.architectures).toContainEqual({ model: "yolo11n.yaml", task: "detect", type: "yolo" });
    expect(body.weights).toEqual([
      { model: "yolo11n-seg.pt", task: "segment", type: "yolo", workers: 1 },
      { model: "yolo11n.pt", task: "detect", type: "yolo", workers: 1 },
    ]);
    expect(body.datasets).toEqual([{ path: "shapes/data.yaml", kind: "yaml", workers: 1 }]);
    expect(JSON.stringify(body)).not.toContain("secret.pt");
  });

  it("signed out: 401", async () => {
    expect((await call(optionsRoute.GET, {})).status).toBe(401);
  });
});
