// The parts of the API's answers the CLI reads. The CLI is installed on its own (npm i -g), so
// it cannot import @wyolo/contracts at run time; test/contract-types.test.ts checks at typecheck
// time that the server's types still fit these.

export type JobStatus = "QUEUED" | "STARTING" | "RUNNING" | "SUCCEEDED" | "FAILED" | "CANCELLED";
export const TERMINAL: readonly string[] = ["SUCCEEDED", "FAILED", "CANCELLED"];
export const SWEEP_TERMINAL: readonly string[] = ["COMPLETED", "FAILED", "CANCELLED"];
export const PRIORITIES = ["low", "normal", "high"] as const;

export type Job = {
  id: string;
  projectId: string;
  name: string;
  status: JobStatus;
  priority: string;
  model: string;
  task: string;
  currentEpoch: number | null;
  totalEpochs: number;
  progress: number;
  etaSeconds: number | null;
  bestMetric: number | null;
  bestMetricName: string | null;
  failureReason: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  sweepId: string | null;
  trialNumber: number | null;
};

export type JobDetail = {
  job: Job & { bestEpoch: number | null; failureClass: string | null };
  project: { id: string; name: string; slug: string };
  team: { id: string; name: string; slug: string };
};

export type EpochRow = {
  epoch: number;
  losses: Record<string, number | null>;
  metrics: Record<string, number | null>;
  lr: Record<string, number | null>;
  epochTime: number | null;
};

export type LogLine = { seq: number; stream: string; line: string; at: string };

export type Artifact = { id: string; name: string; size: number; sha256: string; updatedAt: string };

export type ExportRow = {
  id: string;
  jobId: string;
  format: string;
  options: Record<string, unknown>;
  status: JobStatus;
  failureReason: string | null;
  artifact: { id: string; name: string; size: number; sha256: string } | null;
  createdAt: string;
};

export type Sweep = {
  id: string;
  projectId: string;
  name: string;
  status: string;
  nTrials: number;
  parallel: number;
  objective: string;
  direction: string;
  counts: Record<string, number>;
  bestValue: number | null;
  bestTrialNumber: number | null;
  bestJobId: string | null;
  failureReason: string | null;
  createdAt: string;
  finishedAt: string | null;
};

export type SweepTrial = {
  number: number;
  jobId: string;
  jobStatus: string;
  state: string | null;
  params: Record<string, unknown>;
  value: number | null;
  prunedAtEpoch: number | null;
};

export type Team = { id: string; name: string; slug: string; role: string };
export type Project = { id: string; teamId: string; name: string; slug: string };
export type Me = { user: { id: string; name: string; email: string }; teams: Team[] };

/** POST /projects/{id}/jobs: a job, or a sweep for a config with `sweeper.tune: true`. */
export type Submitted = { kind: "job"; job: Job; warnings: string[] } | { kind: "sweep"; sweep: Sweep; warnings: string[] };
