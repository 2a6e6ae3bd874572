import { z } from "zod";
import { idSchema } from "./schemas.ts";

export const JOB_STATUSES = ["QUEUED", "STARTING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL_STATUSES: readonly JobStatus[] = ["SUCCEEDED", "FAILED", "CANCELLED"];
export const ACTIVE_STATUSES: readonly JobStatus[] = ["QUEUED", "STARTING", "RUNNING"];
/** The failure class of a job whose worker was lost more often than WORKER_MAX_LOSSES: Retry resumes it. */
export const WORKER_LOST_FAILURE = "WORKER_LOST";

export const PRIORITIES = ["low", "normal", "high"] as const;
export type Priority = (typeof PRIORITIES)[number];
/** BullMQ: 1 is taken first. */
export const BULLMQ_PRIORITY: Record<Priority, number> = { high: 1, normal: 5, low: 10 };

export const TRAIN_JOB_NAME = "train";
/** The queue entry carries the row id only: the worker reads everything else from Postgres. */
export const trainJobPayloadSchema = z.object({ jobId: idSchema });
export type TrainJobPayload = z.infer<typeof trainJobPayloadSchema>;

export const jobNameSchema = z.string().trim().min(1, "Required").max(120, "At most 120 characters");

/** `config` is a mapping, or the text of a config.yaml / JSON document. */
export const createJobSchema = z.object({
  name: jobNameSchema.optional(),
  priority: z.enum(PRIORITIES).default("normal"),
  config: z.union([z.string().max(100_000), z.record(z.string(), z.unknown())]),
});

export const JOB_SORTS = ["created_desc", "created_asc", "name_asc", "name_desc", "status"] as const;
/** Whether a list shows sweeps' trials (training jobs with a sweepId) with the other jobs, without them, or alone. */
export const JOB_TRIAL_FILTERS = ["include", "exclude", "only"] as const;

export const listJobsQuerySchema = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  status: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(",") : undefined))
    .pipe(z.array(z.enum(JOB_STATUSES)).optional()),
  creatorId: idSchema.optional(),
  sort: z.enum(JOB_SORTS).default("created_desc"),
  trials: z.enum(JOB_TRIAL_FILTERS).default("include"),
  /** One sweep's trials only. */
  sweepId: idSchema.optional(),
});

export const logsQuerySchema = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});

/** A job as lists and live updates show it. */
export type JobSummary = {
  id: string;
  projectId: string;
  name: string;
  status: JobStatus;
  priority: Priority;
  model: string;
  task: string;
  currentEpoch: number | null;
  totalEpochs: number;
  progress: number;
  etaSeconds: number | null;
  bestMetric: number | null;
  bestMetricName: string | null;
  attempt: number;
  workerName: string | null;
  failureReason: string | null;
  createdBy: { id: string; name: string };
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  cancelRequestedAt: string | null;
  heartbeatAt: string | null;
  /** MLflow: the job's run (once created) and whether tracking lags behind (MLflow away). */
  mlflowExperimentId: string | null;
  mlflowRunId: string | null;
  trackingDelayed: boolean;
  /** A sweep's trial: its sweep and Optuna's trial number; null for any other job. */
  sweepId: string | null;
  trialNumber: number | null;
  sweep: { id: string; name: string } | null;
};

/**
 * A page of a project's jobs. `trialCount`: on the first page (no cursor), how many sweep trials
 * match the status, creator and sweep filters whatever `trials` says (the table's "Show sweep trials (N)").
 */
export type JobListPage = { jobs: JobSummary[]; nextCursor: string | null; trialCount: number | null };

export type JobEpochRow = {
  epoch: number;
  losses: Record<string, number | null>;
  metrics: Record<string, number | null>;
  lr: Record<string, number | null>;
  epochTime: number | null;
};

export type JobLogLine = { seq: number; stream: "stdout" | "stderr" | "trainer"; line: string; at: string };
export type JobEventRow = { id: string; kind: string; message: string; createdAt: string };
