import { describe, expect, it } from "vitest";
import { parseEnv, parseTrainingConfig, type TrainingConfig } from "@wyolo/contracts";
import { workerEnvSchema } from "../src/env.ts";
import os from "node:os";
import { dataloaderLimits, maxDataloaderWorkers, processTree, readProcessTable, treeMemory } from "../src/training/memory-watch.ts";
import { workersLeftOut } from "../src/training/run-training.ts";
import { applyWorkerLimits } from "../src/training/trainer-run.ts";

const config = (train: Record<string, unknown> = {}) => {
  const parsed = parseTrainingConfig({ model: "yolov8n.pt", train: { data: "d.yaml", ...train } });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.config as TrainingConfig;
};

describe("WORKER_CPU_CORES and WORKER_RAM_MEMORY", () => {
  it("parses the old service's values, names bad ones", () => {
    const env = parseEnv(workerEnvSchema, { WORKER_CPU_CORES: "4", WORKER_RAM_MEMORY: "8G" });
    expect(env.WORKER_CPU_CORES).toBe(4);
    expect(env.WORKER_RAM_MEMORY).toBe(8 * 1024 ** 3);
    expect(parseEnv(workerEnvSchema, {}).WORKER_RAM_MEMORY).toBeUndefined();
    // 0 is compose's "no limit" (the compose file's default).
    expect(parseEnv(workerEnvSchema, { WORKER_RAM_MEMORY: "0", WORKER_CPU_CORES: "" }).WORKER_RAM_MEMORY).toBeUndefined();
    expect(() => parseEnv(workerEnvSchema, { WORKER_RAM_MEMORY: "lots" })).toThrow(/WORKER_RAM_MEMORY/);
    expect(() => parseEnv(workerEnvSchema, { WORKER_CPU_CORES: "-2" })).toThrow(/WORKER_CPU_CORES/);
  });

  it("caps dataloader workers at the job's share of the cores, one kept for the trainer", () => {
    expect(maxDataloaderWorkers(undefined, 1)).toBeUndefined();
    expect(maxDataloaderWorkers(4, 1)).toBe(3);
    expect(maxDataloaderWorkers(8, 2)).toBe(3);
    expect(maxDataloaderWorkers(1, 1)).toBe(0);
    expect(maxDataloaderWorkers(2.5, 1)).toBe(1);
  });

  it("lowers a config's workers above the cap, with a note; leaves one under it alone", () => {
    const capped = applyWorkerLimits(config(), { maxWorkers: 3 });
    expect(capped.config.train.workers).toBe(3);
    expect(capped.note).toMatch(/3 instead of 8/);
    const asked = applyWorkerLimits(config({ workers: 2 }), { maxWorkers: 3 });
    expect(asked.config.train.workers).toBe(2);
    expect(asked.note).toBeUndefined();
    expect(applyWorkerLimits(config(), undefined).config.train.workers).toBe(8);
  });

  it("defaults dataloader workers to the job's share of the cores where the config leaves them out, not Ultralytics' 8", () => {
    // 16 cores, 4 jobs at once: 3 each (one of the 4 kept for the trainer); unlimited cores: the host's.
    expect(dataloaderLimits(16, 4)).toEqual({ maxWorkers: 3, defaultWorkers: 3 });
    expect(dataloaderLimits(undefined, 1)).toEqual({ defaultWorkers: Math.max(0, os.availableParallelism() - 1) });
    expect(dataloaderLimits(256, 1).defaultWorkers).toBe(64);
    const left = applyWorkerLimits(config(), { defaultWorkers: 15 }, true);
    expect(left.config.train.workers).toBe(15);
    expect(left.info).toMatch(/Dataloader workers: 15, this job's share .* Ultralytics would take 8/);
    expect(left.note).toBeUndefined();
    expect(applyWorkerLimits(config(), { defaultWorkers: 15, maxWorkers: 3 }, true).config.train.workers).toBe(3);
    expect(applyWorkerLimits(config(), { defaultWorkers: 8 }, true).info).toBeUndefined();
    // Asked for: kept (under the cap), whatever the default.
    expect(applyWorkerLimits(config({ workers: 2 }), { defaultWorkers: 15 }, false).config.train.workers).toBe(2);
  });

  it("tells a left-out `workers` from the config's sources", () => {
    const parsed = parseTrainingConfig({ model: "yolov8n.pt", train: { data: "d.yaml" } });
    expect(parsed.ok && workersLeftOut(parsed.sources)).toBe(true);
    const asked = parseTrainingConfig({ model: "yolov8n.pt", train: { data: "d.yaml", workers: 8 } });
    expect(asked.ok && workersLeftOut(asked.sources)).toBe(false);
    expect(workersLeftOut(null)).toBe(false);
  });

  it("reads AUTO_BATCH_MAX (default 512), names a bad one", () => {
    expect(parseEnv(workerEnvSchema, {}).AUTO_BATCH_MAX).toBe(512);
    expect(parseEnv(workerEnvSchema, { AUTO_BATCH_MAX: "1024" }).AUTO_BATCH_MAX).toBe(1024);
    expect(() => parseEnv(workerEnvSchema, { AUTO_BATCH_MAX: "0" })).toThrow(/AUTO_BATCH_MAX/);
  });

  it("measures a process tree from /proc", () => {
    const table = readProcessTable();
    expect(table.size).toBeGreaterThan(0);
    expect(processTree(table, process.pid)[0]).toBe(process.pid);
    expect(treeMemory(table, process.pid)).toBeGreaterThan(10 * 1024 * 1024);
  });
});
