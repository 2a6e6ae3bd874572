import { describe, expect, it } from "vitest";
import { decideOutcome, type ChildRun } from "../src/outcome.ts";

const clean = { code: 0, signal: null };
const run = (over: Partial<ChildRun>): ChildRun => ({
  child: "trainer",
  program: "python3",
  exit: clean,
  stopReason: null,
  succeeded: false,
  failed: null,
  ...over,
});
const failed = {
  type: "failed",
  v: 1,
  errorClass: "DATASET_NOT_FOUND",
  message: "no data.yaml",
  suggestion: "check train.data",
} as ChildRun["failed"];

describe("decideOutcome", () => {
  it("hands a shutdown back to the queue, whatever the child reported", () => {
    expect(decideOutcome(run({ stopReason: "shutdown", succeeded: true, finishedReason: "cancelled" })).status).toBe("QUEUED");
    expect(decideOutcome(run({ stopReason: "shutdown", exit: { code: null, signal: "SIGKILL" } })).status).toBe("QUEUED");
  });

  it("hands back a child that stopped for a silent lifeline (exit 70), unless it reported an outcome", () => {
    expect(decideOutcome(run({ exit: { code: 70, signal: null } }))).toEqual({
      status: "QUEUED",
      message: "the trainer heard nothing from the worker for too long",
    });
    expect(decideOutcome(run({ exit: { code: 70, signal: null }, failed })).status).toBe("FAILED");
  });

  it("cancels a cancel, saying whether it stopped at an epoch boundary", () => {
    expect(decideOutcome(run({ stopReason: "cancel", succeeded: true, finishedReason: "cancelled" }))).toEqual({
      status: "CANCELLED",
      message: "Stopped at an epoch boundary and cancelled",
    });
    expect(decideOutcome(run({ stopReason: "cancel", exit: { code: null, signal: "SIGKILL" } }))).toEqual({
      status: "CANCELLED",
      message: "Cancelled (the trainer was stopped)",
    });
  });

  it("succeeds only on a clean exit with a success report and no failure", () => {
    expect(decideOutcome(run({ succeeded: true, finishedReason: "completed" }))).toEqual({ status: "SUCCEEDED", message: "Finished" });
    expect(decideOutcome(run({ succeeded: true, finishedReason: "early_stopped" }))).toEqual({
      status: "SUCCEEDED",
      message: "Finished early: no improvement within `patience`",
    });
    expect(decideOutcome(run({ succeeded: true, exit: { code: 1, signal: null } })).status).toBe("FAILED");
    expect(decideOutcome(run({ succeeded: true, failed })).status).toBe("FAILED");
  });

  it("ends a trial its pruner stopped as a success marked pruned, and only a pruned finish as pruned", () => {
    const pruned = { status: "SUCCEEDED", message: "Pruned by the sweep's pruner", pruned: true };
    expect(decideOutcome(run({ stopReason: "prune", succeeded: true, finishedReason: "pruned" }))).toEqual(pruned);
    // A resume of a run pruned before reports it again, without a stop request in this run.
    expect(decideOutcome(run({ succeeded: true, finishedReason: "pruned" }))).toEqual(pruned);
    // The answer came too late: the trainer had trained every epoch.
    expect(decideOutcome(run({ stopReason: "prune", succeeded: true, finishedReason: "completed" }))).toEqual({
      status: "SUCCEEDED",
      message: "Finished",
    });
    // A prune request does not excuse a crash or a failure.
    expect(decideOutcome(run({ stopReason: "prune", exit: { code: 3, signal: null } }))).toEqual({
      status: "FAILED",
      message: "The trainer crashed (exit code 3)",
      failureClass: "UNKNOWN",
    });
    expect(decideOutcome(run({ stopReason: "prune", failed, exit: { code: 1, signal: null } })).status).toBe("FAILED");
    expect(decideOutcome(run({ stopReason: "prune", exit: { code: 70, signal: null } })).status).toBe("QUEUED");
  });

  it("fails with the child's own error class and suggestion", () => {
    expect(decideOutcome(run({ failed, exit: { code: 1, signal: null } }))).toEqual({
      status: "FAILED",
      message: "DATASET_NOT_FOUND: no data.yaml (check train.data)",
      failureClass: "DATASET_NOT_FOUND",
    });
  });

  it("names a crash, a silent exit, a spawn error and a time limit", () => {
    expect(decideOutcome(run({ exit: { code: null, signal: "SIGSEGV" } })).message).toBe("The trainer crashed (signal SIGSEGV)");
    expect(decideOutcome(run({ exit: { code: 3, signal: null } })).message).toBe("The trainer crashed (exit code 3)");
    expect(decideOutcome(run({}))).toEqual({
      status: "FAILED",
      message: "The trainer exited without reporting a result",
      failureClass: "UNKNOWN",
    });
    expect(decideOutcome(run({ exit: { code: null, signal: null, spawnError: "ENOENT" } })).message).toBe(
      "The trainer could not be started (python3): ENOENT",
    );
    expect(decideOutcome(run({ child: "exporter", timedOut: "took too long", succeeded: true })).message).toBe("took too long");
  });

  it("adds the exporter's last lines to a crash", () => {
    expect(decideOutcome(run({ child: "exporter", exit: { code: 2, signal: null }, crashDetail: "a | b" })).message).toBe(
      "The exporter crashed (exit code 2): a | b",
    );
  });
});
