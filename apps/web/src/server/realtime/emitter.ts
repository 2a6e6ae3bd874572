import "server-only";
import { Emitter } from "@socket.io/redis-emitter";
import {
  datasetRoom,
  jobRoom,
  projectRoom,
  sweepRoom,
  type ExportSummary,
  type ServerToClientEvents,
  type JobSummary,
  type JobEventRow,
  type SweepSummary,
} from "@wyolo/contracts";
import { redis } from "../redis";
import { logger } from "../logger";
import { sessionRoom, userRoom } from "./rooms";

const globalForEmitter = globalThis as unknown as { wyoloEmitter?: Emitter<ServerToClientEvents> };
// The emitter does not await its publish: a Redis outage must end up in the log, not as an
// unhandled rejection.
const publisher = {
  publish: (channel: string, message: Buffer | string) =>
    redis.publish(channel, message).catch((err: Error) => logger.warn({ err: { message: err.message } }, "live update not sent")),
};
const emitter: Emitter<ServerToClientEvents> = globalForEmitter.wyoloEmitter ?? new Emitter<ServerToClientEvents>(publisher);
globalForEmitter.wyoloEmitter = emitter;

/** Live updates are best effort: the page refetches on reconnect, so a lost event loses nothing. */
export function emitJobUpdated(job: Partial<JobSummary> & { id: string; projectId: string }) {
  try {
    emitter.to(projectRoom(job.projectId)).to(jobRoom(job.id)).emit("job:updated", job);
  } catch (err) {
    logger.warn({ err: { message: (err as Error).message } }, "live update not sent");
  }
}

export function emitJobEvent(jobId: string, event: JobEventRow) {
  try {
    emitter.to(jobRoom(jobId)).emit("job:event", { jobId, event });
  } catch (err) {
    logger.warn({ err: { message: (err as Error).message } }, "live update not sent");
  }
}

export function emitSweepUpdated(sweep: Partial<SweepSummary> & { id: string; projectId: string }) {
  try {
    emitter.to(projectRoom(sweep.projectId)).to(sweepRoom(sweep.id)).emit("sweep:updated", sweep);
  } catch (err) {
    logger.warn({ err: { message: (err as Error).message } }, "live update not sent");
  }
}

export function emitExportUpdated(exp: Partial<ExportSummary> & { id: string; jobId: string }) {
  try {
    emitter.to(jobRoom(exp.jobId)).emit("export:updated", exp);
  } catch (err) {
    logger.warn({ err: { message: (err as Error).message } }, "live update not sent");
  }
}

/**
 * Disconnects every socket of a user on every web process (the Redis adapter relays it). Called
 * after the change that ends or narrows their access has committed: the client reconnects and
 * each re-subscribe checks the permission again.
 */
export function disconnectUserSockets(userId: string) {
  try {
    emitter.in(userRoom(userId)).disconnectSockets(true);
  } catch (err) {
    logger.warn({ err: { message: (err as Error).message } }, "socket disconnect not sent");
  }
}

/** Disconnects the sockets opened with one session token (sign-out). */
export function disconnectSessionSockets(sessionId: string) {
  try {
    emitter.in(sessionRoom(sessionId)).disconnectSockets(true);
  } catch (err) {
    logger.warn({ err: { message: (err as Error).message } }, "socket disconnect not sent");
  }
}

/** A dataset version was created, uploaded, archived or removed (the worker sends its validation's end). */
export function emitDatasetVersion(payload: { datasetId: string; versionId: string; status: string }) {
  try {
    emitter.to(datasetRoom(payload.datasetId)).emit("dataset:version", payload);
  } catch (err) {
    logger.warn({ err: { message: (err as Error).message } }, "live update not sent");
  }
}
