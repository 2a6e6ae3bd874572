import { describe, expect, it } from "vitest";
import type { SweepDetail, SweepTrialRow } from "@wyolo/contracts";
import { applyTrialPatch, optimizationHistory } from "@/lib/sweeps";

const trial = (number: number, fields: Partial<SweepTrialRow> = {}): SweepTrialRow => ({
  number,
  jobId: `job${number}`,
  jobName: `s #${number}`,
  jobStatus: "SUCCEEDED",
  state: "COMPLETE",
  params: {},
  value: null,
  intermediate: [],
  prunedAtEpoch: null,
  startedAt: null,
  finishedAt: null,
  ...fields,
});

describe("the sweep page's live state", () => {
  it("draws the best so far from completed trials only: a pruned trial's value is where it stopped", () => {
    const points = optimizationHistory(
      [trial(2, { value: 0.9, state: "PRUNED", prunedAtEpoch: 2 }), trial(0, { value: 0.5 }), trial(1, { value: 0.7 }), trial(3)],
      "maximize",
    );
    expect(points.map((p) => [p.number, p.best, p.pruned])).toEqual([
      [0, 0.5, false],
      [1, 0.7, false],
      [2, 0.7, true],
    ]);
    expect(optimizationHistory([trial(0, { value: 0.5 }), trial(1, { value: 0.2 })], "minimize").map((p) => p.best)).toEqual([0.5, 0.2]);
  });

  it("patches an epoch's objective in place (a resent epoch replaces its value), and appends a new trial", () => {
    const detail = { trials: [trial(0, { intermediate: [[1, 0.1]] })] } as unknown as SweepDetail;
    const twice = applyTrialPatch(applyTrialPatch(detail, { sweepId: "s", number: 0, epoch: 2, value: 0.2 }), {
      sweepId: "s",
      number: 0,
      epoch: 2,
      value: 0.25,
    });
    expect(twice.trials[0]!.intermediate).toEqual([
      [1, 0.1],
      [2, 0.25],
    ]);
    // An epoch of a trial the page has not seen yet waits for the refetch.
    expect(applyTrialPatch(detail, { sweepId: "s", number: 5, epoch: 1, value: 0.3 })).toBe(detail);
    const added = applyTrialPatch(detail, { sweepId: "s", number: 1, jobId: "job1", jobStatus: "QUEUED", params: { lr0: 0.01 } });
    expect(added.trials.map((t) => [t.number, t.jobStatus])).toEqual([
      [0, "SUCCEEDED"],
      [1, "QUEUED"],
    ]);
  });
});
