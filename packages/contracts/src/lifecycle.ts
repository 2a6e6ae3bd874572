import type { JobStatus } from "./jobs.ts";
import type { SweepStatus } from "./sweeps.ts";

/**
 * The lifecycle of every queued thing (a training, an export; sweep trials next): which status
 * changes are allowed and who may cause each. Anything not listed is refused. A new kind is a
 * new table here plus its storage entry in @wyolo/db's lifecycle.
 */
export const TRANSITION_CAUSES = [
  /** A signed-in user (cancel); audited. */
  "user",
  /** The worker running it: pickup, trainer started, finished, hand-back at shutdown. */
  "worker",
  /** BullMQ found its worker gone (lock not renewed). */
  "stalled",
  /** The web app's queue reconciler (queue entry given up on or missing). */
  "reconciler",
] as const;
export type TransitionCause = (typeof TRANSITION_CAUSES)[number];

export type TransitionRule = { from: readonly JobStatus[]; to: JobStatus; causes: readonly TransitionCause[]; why: string };

const ACTIVE = ["QUEUED", "STARTING", "RUNNING"] as const;
const ON_A_WORKER = ["STARTING", "RUNNING"] as const;

export const TRAINING_TRANSITIONS: readonly TransitionRule[] = [
  // From STARTING/RUNNING too: a job whose worker was lost may be picked up before the stalled handler ran.
  { from: ACTIVE, to: "STARTING", causes: ["worker"], why: "picked up by a worker" },
  { from: ["STARTING"], to: "RUNNING", causes: ["worker"], why: "the trainer started" },
  {
    from: ON_A_WORKER,
    to: "QUEUED",
    causes: ["worker", "stalled", "reconciler"],
    why: "handed back (shutdown), worker lost, or queue entry gone",
  },
  // The user's Retry of a run that is dead (no queue entry, so no worker holds it): resumes from its checkpoint.
  { from: ON_A_WORKER, to: "QUEUED", causes: ["user"], why: "retried while its run was dead" },
  // Retry of a job failed for losing its worker too often: the same job resumes from its checkpoint.
  { from: ["FAILED"], to: "QUEUED", causes: ["user"], why: "retried after its worker was lost too often" },
  { from: ON_A_WORKER, to: "SUCCEEDED", causes: ["worker"], why: "trained what it was asked to" },
  { from: ACTIVE, to: "FAILED", causes: ["worker", "reconciler"], why: "the trainer or its inputs failed, or the queue gave up on it" },
  { from: ON_A_WORKER, to: "FAILED", causes: ["stalled"], why: "its worker was lost more often than WORKER_MAX_LOSSES" },
  { from: ["QUEUED"], to: "CANCELLED", causes: ["user", "worker"], why: "cancelled while queued, or before its trainer started" },
  { from: ON_A_WORKER, to: "CANCELLED", causes: ["worker"], why: "the trainer stopped after a cancel request" },
  // No queue entry, so no worker holds it (one that loses its lock stops at once): nobody else would end it.
  { from: ON_A_WORKER, to: "CANCELLED", causes: ["user"], why: "cancelled while its run was dead" },
];

export const EXPORT_TRANSITIONS: readonly TransitionRule[] = [
  // An export goes straight to RUNNING; again from RUNNING when its worker was lost and BullMQ runs it again.
  { from: ["QUEUED", "RUNNING"], to: "RUNNING", causes: ["worker"], why: "picked up by a worker" },
  { from: ["RUNNING"], to: "QUEUED", causes: ["worker", "reconciler"], why: "handed back (shutdown or an infrastructure error retried)" },
  { from: ["RUNNING"], to: "SUCCEEDED", causes: ["worker"], why: "exported and stored" },
  { from: ACTIVE, to: "FAILED", causes: ["worker", "reconciler"], why: "the exporter failed, or the queue gave up on it" },
];

export type SweepTransitionRule = { from: readonly SweepStatus[]; to: SweepStatus; causes: readonly TransitionCause[]; why: string };

/** A sweep: its advance step (cause "worker") starts and ends it; a user cancels it or adds trials. */
export const SWEEP_TRANSITIONS: readonly SweepTransitionRule[] = [
  { from: ["QUEUED"], to: "RUNNING", causes: ["worker"], why: "its first trials were asked of Optuna" },
  { from: ["QUEUED", "RUNNING"], to: "COMPLETED", causes: ["worker"], why: "every trial ended, or its timeout passed and none is running" },
  { from: ["QUEUED", "RUNNING"], to: "CANCELLED", causes: ["worker", "user"], why: "cancelled: no trial is running any more" },
  { from: ["QUEUED", "RUNNING"], to: "FAILED", causes: ["worker"], why: "its study cannot go on (an invalid space, every trial failed)" },
  { from: ["COMPLETED", "CANCELLED", "FAILED"], to: "RUNNING", causes: ["user"], why: "trials were added: the same study goes on" },
];

/** The statuses a sweep may reach `to` from, for `cause` (empty: never). */
export function sweepAllowedFrom(to: SweepStatus, cause: TransitionCause): SweepStatus[] {
  const from = new Set<SweepStatus>();
  for (const rule of SWEEP_TRANSITIONS) if (rule.to === to && rule.causes.includes(cause)) for (const s of rule.from) from.add(s);
  return [...from];
}

export const LIFECYCLES = { training: TRAINING_TRANSITIONS, export: EXPORT_TRANSITIONS } as const;
export type LifecycleKind = keyof typeof LIFECYCLES;

/** The statuses `to` may be reached from by `cause` (empty: never). */
export function allowedFrom(kind: LifecycleKind, to: JobStatus, cause: TransitionCause): JobStatus[] {
  const from = new Set<JobStatus>();
  for (const rule of LIFECYCLES[kind]) if (rule.to === to && rule.causes.includes(cause)) for (const s of rule.from) from.add(s);
  return [...from];
}

export function canTransition(kind: LifecycleKind, from: JobStatus, to: JobStatus, cause: TransitionCause): boolean {
  return allowedFrom(kind, to, cause).includes(from);
}
