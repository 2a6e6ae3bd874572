import { Emitter } from "@socket.io/redis-emitter";
import type { Redis } from "ioredis";
import {
  datasetRoom,
  jobRoom,
  projectRoom,
  sweepRoom,
  type ExportSummary,
  type SweepSummary,
  type SweepTrialPatch,
  type JobEpochRow,
  type JobEventRow,
  type JobLogLine,
  type JobSummary,
  type ResourceSample,
  type ServerToClientEvents,
} from "@wyolo/contracts";
import type { Logger } from "./logger.ts";

/** Publishes live job updates to the web app's socket.io rooms through Redis. Best effort: pages refetch on reconnect. */
export class LivePublisher {
  private readonly emitter: Emitter<ServerToClientEvents>;

  constructor(
    redis: Redis,
    private readonly log: Logger,
  ) {
    // The emitter does not await its publish: failures go to the log, not to unhandledRejection.
    const publisher = {
      publish: (channel: string, message: Buffer | string) =>
        redis.publish(channel, message).catch((err: Error) => this.log.debug({ err: { message: err.message } }, "live update not sent")),
    };
    this.emitter = new Emitter<ServerToClientEvents>(publisher);
  }

  private safely(fn: () => void) {
    try {
      fn();
    } catch (err) {
      this.log.debug({ err: { message: (err as Error).message } }, "live update not sent");
    }
  }

  jobUpdated(job: Partial<JobSummary> & { id: string; projectId: string }) {
    this.safely(() => this.emitter.to(projectRoom(job.projectId)).to(jobRoom(job.id)).emit("job:updated", job));
  }
  epoch(jobId: string, epoch: JobEpochRow) {
    this.safely(() => this.emitter.to(jobRoom(jobId)).emit("job:epoch", { jobId, epoch }));
  }
  logLines(jobId: string, lines: JobLogLine[]) {
    this.safely(() => this.emitter.to(jobRoom(jobId)).emit("job:log", { jobId, lines }));
  }
  exportUpdated(exp: Partial<ExportSummary> & { id: string; jobId: string }) {
    this.safely(() => this.emitter.to(jobRoom(exp.jobId)).emit("export:updated", exp));
  }
  artifactsChanged(jobId: string) {
    this.safely(() => this.emitter.to(jobRoom(jobId)).emit("job:artifacts", { jobId }));
  }
  sweepUpdated(sweep: Partial<SweepSummary> & { id: string; projectId: string }) {
    this.safely(() => this.emitter.to(projectRoom(sweep.projectId)).to(sweepRoom(sweep.id)).emit("sweep:updated", sweep));
  }
  sweepTrial(patch: SweepTrialPatch) {
    this.safely(() => this.emitter.to(sweepRoom(patch.sweepId)).emit("sweep:trial", patch));
  }
  jobResources(jobId: string, sample: ResourceSample) {
    this.safely(() => this.emitter.to(jobRoom(jobId)).emit("job:resources", { jobId, sample }));
  }
  datasetVersion(payload: { datasetId: string; versionId: string; status: string }) {
    this.safely(() => this.emitter.to(datasetRoom(payload.datasetId)).emit("dataset:version", payload));
  }
  event(jobId: string, event: JobEventRow) {
    this.safely(() => this.emitter.to(jobRoom(jobId)).emit("job:event", { jobId, event }));
  }
}
