import { z } from "zod";
import type { JobEpochRow, JobEventRow, JobLogLine, JobSummary } from "./jobs.ts";
import type { ExportSummary } from "./exports.ts";
import type { SweepSummary, SweepTrialPatch } from "./sweeps.ts";
import type { ResourceSample } from "./resources.ts";

/** Rooms: every reader of a project is in `project:<id>`; a job page joins `job:<id>`. */
export const projectRoom = (projectId: string) => `project:${projectId}`;
export const jobRoom = (jobId: string) => `job:${jobId}`;
/** A sweep page joins `sweep:<id>`. */
export const sweepRoom = (sweepId: string) => `sweep:${sweepId}`;
/** A dataset page joins `dataset:<id>` (readers of the dataset's team). */
export const datasetRoom = (datasetId: string) => `dataset:${datasetId}`;

// Ids only (as in the API's params): anything else cannot name a room, and never reaches Postgres.
const roomId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);
export const subscribeSchema = z.union([
  z.object({ projectId: roomId }),
  z.object({ jobId: roomId }),
  z.object({ sweepId: roomId }),
  z.object({ datasetId: roomId }),
]);
export type SubscribeRequest = z.infer<typeof subscribeSchema>;
export type SubscribeAck = { ok: true } | { ok: false; error: string };

export interface ServerToClientEvents {
  /** The job's summary changed (status, progress…): patch it in place. */
  "job:updated": (job: Partial<JobSummary> & { id: string; projectId: string }) => void;
  "job:epoch": (payload: { jobId: string; epoch: JobEpochRow }) => void;
  "job:log": (payload: { jobId: string; lines: JobLogLine[] }) => void;
  "job:event": (payload: { jobId: string; event: JobEventRow }) => void;
  /** An export of the job was created or changed (sent to the job's room): patch or add it. */
  "export:updated": (exp: Partial<ExportSummary> & { id: string; jobId: string }) => void;
  /** The job's artifact list changed (an upload or an export finished): read it again. */
  "job:artifacts": (payload: { jobId: string }) => void;
  /** A sweep changed (status, counts, best): sent to its room and its project's room. */
  "sweep:updated": (sweep: Partial<SweepSummary> & { id: string; projectId: string }) => void;
  /** One trial of a sweep changed, or reported an epoch's objective (sent to the sweep's room). */
  "sweep:trial": (patch: SweepTrialPatch) => void;
  /** A running job's latest resource sample (sent to the job's room). */
  "job:resources": (payload: { jobId: string; sample: ResourceSample }) => void;
  /** A dataset version changed (status, report ready): sent to `dataset:<datasetId>`. */
  "dataset:version": (payload: { datasetId: string; versionId: string; status: string }) => void;
}

export interface ClientToServerEvents {
  subscribe: (req: SubscribeRequest, ack: (res: SubscribeAck) => void) => void;
  unsubscribe: (req: SubscribeRequest) => void;
}

/** Redis pub/sub channel on which the web app asks the worker running a job to stop it. */
export const CANCEL_CHANNEL = "wyolo:job-cancel";
