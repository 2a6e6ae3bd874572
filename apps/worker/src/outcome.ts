import type { FailureClass, TrainerEvent } from "@wyolo/contracts";
import type { TrainerExit } from "./training/trainer-process.ts";

/** Why the worker asked the trainer to stop; `prune`: a sweep's pruner gave up on this trial (the weakest: a cancel or shutdown overrides it). */
export type StopReason = "cancel" | "shutdown" | "prune";
/** How a child exits when its stdin lifeline to the worker closed or fell silent (docs/trainer-protocol.md). */
export const LIFELINE_EXIT_CODE = 70;
type Failed = Extract<TrainerEvent, { type: "failed" }>;

/** How a trainer or exporter child ended, as its run saw it. */
export type ChildRun = {
  child: "trainer" | "exporter";
  /** The command's first word, named when it could not be started. */
  program: string;
  exit: TrainerExit;
  stopReason: StopReason | null;
  /** Set when the run was stopped for taking too long: the message says so. */
  timedOut?: string;
  /** Whether the child reported success (`finished` for a trainer, `exported` for an exporter), and the trainer's reason. */
  succeeded: boolean;
  finishedReason?: string;
  failed: Failed | null;
  /** Appended to a crash message (the exporter's last lines). */
  crashDetail?: string;
};

export type Outcome =
  | { status: "QUEUED"; message: string }
  | { status: "CANCELLED"; message: string }
  /** `pruned`: a sweep trial its pruner stopped, trained as far as the sweep wanted. */
  | { status: "SUCCEEDED"; message: string; pruned?: true }
  | { status: "FAILED"; message: string; failureClass: FailureClass | "UNKNOWN" };

/**
 * What a run's end means for its row, for trainings and exports alike. Pure: the caller applies
 * it through the lifecycle. A shutdown hands the job back (it resumes elsewhere); a cancel ends
 * it; a child error (bad dataset, bad argument, out of memory, crash) is final.
 */
export function decideOutcome(run: ChildRun): Outcome {
  if (run.stopReason === "shutdown") return { status: "QUEUED", message: "the worker is shutting down" };
  if (run.stopReason === "cancel") {
    return {
      status: "CANCELLED",
      message:
        run.finishedReason === "cancelled" ? "Stopped at an epoch boundary and cancelled" : `Cancelled (the ${run.child} was stopped)`,
    };
  }
  // The trainer stopped for a late heartbeat while this worker still held the job: not its fault, resume it.
  if (run.exit.code === LIFELINE_EXIT_CODE && !run.failed && !run.succeeded)
    return { status: "QUEUED", message: `the ${run.child} heard nothing from the worker for too long` };
  if (run.timedOut) return { status: "FAILED", message: run.timedOut, failureClass: "UNKNOWN" };
  if (run.exit.spawnError)
    return {
      status: "FAILED",
      message: `The ${run.child} could not be started (${run.program}): ${run.exit.spawnError}`,
      failureClass: "UNKNOWN",
    };
  if (run.exit.code === 0 && run.succeeded && !run.failed) {
    // Also without a stop request in this run: a resume of a run that was pruned before says so again.
    if (run.finishedReason === "pruned") return { status: "SUCCEEDED", message: "Pruned by the sweep's pruner", pruned: true };
    return {
      status: "SUCCEEDED",
      message: run.finishedReason === "early_stopped" ? "Finished early: no improvement within `patience`" : "Finished",
    };
  }
  if (run.failed) {
    const f = run.failed;
    return {
      status: "FAILED",
      message: `${f.errorClass}: ${f.message}${f.suggestion ? ` (${f.suggestion})` : ""}`,
      failureClass: f.errorClass,
    };
  }
  const how =
    run.exit.code === 0
      ? "exited without reporting a result"
      : `crashed (${run.exit.signal ? `signal ${run.exit.signal}` : `exit code ${run.exit.code}`})`;
  return { status: "FAILED", message: `The ${run.child} ${how}${run.crashDetail ? `: ${run.crashDetail}` : ""}`, failureClass: "UNKNOWN" };
}
