import os from "node:os";
import type { Redis } from "ioredis";
import { workersKey, type GpuStats, type WorkerReport } from "@wyolo/contracts";
import type { WorkerEnv } from "./env.ts";
import type { Logger } from "./logger.ts";
import { queryGpus, type GpuAllocator } from "./gpus.ts";
import type { TrainerCheck } from "./training/trainer-check.ts";

/** Publishes this worker and its GPUs (with the job on each) to Redis every few seconds, for the Workers page. */
export class WorkerReporter {
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = new Date().toISOString();
  latestGpus: Omit<GpuStats, "jobId">[] = [];

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

  async report() {
    this.latestGpus = await queryGpus(this.env.NVIDIA_SMI);
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
