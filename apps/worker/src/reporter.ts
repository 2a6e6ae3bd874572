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
/** How long a report waits for a scan while it has no inventory yet (the first report, usually); then it goes without. */
const FIRST_INVENTORY_WAIT_MS = 1_000;

/** Publishes this worker and its GPUs (with the job on each) to Redis every few seconds, for the Workers page. */
export class WorkerReporter {
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = new Date().toISOString();
  latestGpus: Omit<GpuStats, "jobId">[] = [];
  /** The last finished scan; a report sends this, never waiting on a slow DATASETS_DIR or object store. */
  private inventory: WorkerInventory | undefined;
  private scanStartedAt = 0;
  private scanning: Promise<void> | null = null;
  private stopped = false;

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

  /** Starts a scan in the background when the last one began a minute ago or more; one at a time. */
  private refreshInventory(): Promise<void> | null {
    if (this.scanning || this.stopped || Date.now() - this.scanStartedAt < INVENTORY_REFRESH_MS) return this.scanning;
    this.scanStartedAt = Date.now();
    this.scanning = scanInventory(this.env)
      .then((value) => void (this.inventory = value))
      .catch((err: Error) => this.log.warn({ err: { message: err.message } }, "could not list weights and datasets"))
      .finally(() => (this.scanning = null));
    return this.scanning;
  }

  private async currentInventory(): Promise<WorkerInventory | undefined> {
    const scan = this.refreshInventory();
    if (scan && !this.inventory) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([scan, new Promise((resolve) => (timer = setTimeout(resolve, FIRST_INVENTORY_WAIT_MS)))]);
      clearTimeout(timer);
    }
    return this.inventory;
  }

  async report() {
    const [gpus, inventory] = await Promise.all([queryGpus(this.env.NVIDIA_SMI), this.currentInventory()]);
    this.latestGpus = gpus;
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
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.report();
  }
}
