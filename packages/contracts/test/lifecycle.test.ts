import { describe, expect, it } from "vitest";
import {
  allowedFrom,
  canTransition,
  JOB_STATUSES,
  TRANSITION_CAUSES,
  type JobStatus,
  type LifecycleKind,
  type TransitionCause,
} from "../src/index.ts";

// Written out by hand, independently of the tables: every (from, to, cause) that must be allowed.
const ALLOWED: Record<LifecycleKind, string[]> = {
  training: [
    "QUEUED>STARTING:worker",
    "STARTING>STARTING:worker",
    "RUNNING>STARTING:worker",
    "STARTING>RUNNING:worker",
    "STARTING>QUEUED:worker",
    "RUNNING>QUEUED:worker",
    "STARTING>QUEUED:stalled",
    "RUNNING>QUEUED:stalled",
    "STARTING>QUEUED:reconciler",
    "RUNNING>QUEUED:reconciler",
    "STARTING>QUEUED:user",
    "RUNNING>QUEUED:user",
    "FAILED>QUEUED:user",
    "STARTING>SUCCEEDED:worker",
    "RUNNING>SUCCEEDED:worker",
    "QUEUED>FAILED:worker",
    "STARTING>FAILED:worker",
    "RUNNING>FAILED:worker",
    "QUEUED>FAILED:reconciler",
    "STARTING>FAILED:reconciler",
    "RUNNING>FAILED:reconciler",
    "STARTING>FAILED:stalled",
    "RUNNING>FAILED:stalled",
    "QUEUED>CANCELLED:user",
    "QUEUED>CANCELLED:worker",
    "STARTING>CANCELLED:worker",
    "RUNNING>CANCELLED:worker",
    "STARTING>CANCELLED:user",
    "RUNNING>CANCELLED:user",
  ],
  export: [
    "QUEUED>RUNNING:worker",
    "RUNNING>RUNNING:worker",
    "RUNNING>QUEUED:worker",
    "RUNNING>QUEUED:reconciler",
    "RUNNING>SUCCEEDED:worker",
    "QUEUED>FAILED:worker",
    "STARTING>FAILED:worker",
    "RUNNING>FAILED:worker",
    "QUEUED>FAILED:reconciler",
    "STARTING>FAILED:reconciler",
    "RUNNING>FAILED:reconciler",
  ],
};

const triples = JOB_STATUSES.flatMap((from) =>
  JOB_STATUSES.flatMap((to) => TRANSITION_CAUSES.map((cause) => [from, to, cause] as [JobStatus, JobStatus, TransitionCause])),
);

for (const kind of ["training", "export"] as const) {
  describe(`${kind} lifecycle`, () => {
    const allowed = new Set(ALLOWED[kind]);
    it.each(triples.filter(([f, t, c]) => allowed.has(`${f}>${t}:${c}`)))("allows %s → %s by %s", (from, to, cause) => {
      expect(canTransition(kind, from, to, cause)).toBe(true);
      expect(allowedFrom(kind, to, cause)).toContain(from);
    });
    it.each(triples.filter(([f, t, c]) => !allowed.has(`${f}>${t}:${c}`)))("refuses %s → %s by %s", (from, to, cause) => {
      expect(canTransition(kind, from, to, cause)).toBe(false);
      expect(allowedFrom(kind, to, cause)).not.toContain(from);
    });
    it("never leaves a final state, but for a user's Retry of a training failed for losing its worker", () => {
      for (const from of ["SUCCEEDED", "FAILED", "CANCELLED"] as const) {
        for (const [, to, cause] of triples)
          expect(canTransition(kind, from, to, cause)).toBe(
            kind === "training" && from === "FAILED" && to === "QUEUED" && cause === "user",
          );
      }
    });
  });
}

it("lets a user only cancel a training, or retry one whose run is dead or whose worker was lost too often", () => {
  const byUser = triples.filter(([f, t, c]) => c === "user" && canTransition("training", f, t, c)).map(([f, t]) => `${f}>${t}`);
  expect(byUser.sort()).toEqual([
    "FAILED>QUEUED",
    "QUEUED>CANCELLED",
    "RUNNING>CANCELLED",
    "RUNNING>QUEUED",
    "STARTING>CANCELLED",
    "STARTING>QUEUED",
  ]);
  expect(triples.some(([f, t, c]) => c === "user" && canTransition("export", f, t, c))).toBe(false);
});
