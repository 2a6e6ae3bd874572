import os from "node:os";
import type { Redis } from "ioredis";
import { workersKey, type GpuStats, type WorkerInventory, type WorkerReport } from "@wyolo/contracts";
import type { WorkerEnv } from "./env.ts";
import type { Logger } from "./logger.ts";
import { queryGpus, type GpuAllocator } from "./gpus.ts";
import type { TrainerCheck } from "./training/trainer-check.ts";
import { scanInventory } from "./inventory.ts";

/** Weights and datasets change rarely: scanned at most this often, not on every report. */
const INVENTORY_REFRESH_MS = 60_000;

/** Publishes this worker and its GPUs (with the job on each) to Redis every few seconds, for the Workers page. */
export class WorkerReporter {
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = new Date().toISOString();
  latestGpus: Omit<GpuStats, "jobId">[] = [];
  private inventory: { at: number; value: WorkerInventory } | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly env: WorkerEnv,
    private readonly concurrency: number,
    private readonly trainer: TrainerCheck,
    private readonly allocator: GpuAllocator,
    private readonly state: { running: () => string[]; draining: () => boolean; exportFormats: readonly string[] },
    private readonly log: Logger,
  ) {}

  start() {
    void this.report();
    this.timer = setInterval(() => void this.report(), this.env.REPORT_INTERVAL_MS);
  }

  private async currentInventory(): Promise<WorkerInventory | undefined> {
    if (!this.inventory || Date.now() - this.inventory.at >= INVENTORY_REFRESH_MS) {
      try {
        this.inventory = { at: Date.now(), value: await scanInventory(this.env) };
      } catch (err) {
        this.log.warn({ err: { message: (err as Error).message } }, "could not list weights and datasets");
      }
    }
    return this.inventory?.value;
  }

  async report() {
    this.latestGpus = await queryGpus(this.env.NVIDIA_SMI);
    const inventory = await this.currentInventory();
    const report: WorkerReport = {
      name: this.env.WORKER_NAME,
      host: os.hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      lastSeen: new Date().toISOString(),
      concurrency: this.concurrency,
      draining: this.state.draining(),
      trainer: this.trainer,
      gpus: this.latestGpus.map((g) => ({ ...g, jobId: this.allocator.holderOf(g.index) })),
      runningJobIds: this.state.running(),
      exportFormats: [...this.state.exportFormats],
      inventory,
    };
    await this.redis
      .hset(workersKey(this.env.TRAINING_QUEUE), this.env.WORKER_NAME, JSON.stringify(report))
      .catch((err: Error) => this.log.debug({ err: { message: err.message } }, "worker report not sent"));
  }

  async stop() {
    if (this.timer) clearInterval(this.timer);
    await this.report();
  }
}
