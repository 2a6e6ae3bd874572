import { describe, expect, it } from "vitest";
import { parseTrainingConfig } from "@wyolo/contracts";
import { bestValueSeries, sweepParams } from "../src/sweeps/sweep-tracking.ts";
import { advanceJobId } from "../src/sweeps/sweep-queue.ts";
import { trialTags } from "../src/training/tracking.ts";

const settingsOf = (sweeper: Record<string, unknown>) => {
  const r = parseTrainingConfig({ model: "yolo11n.pt", train: { data: "d.yaml", epochs: 5 }, sweeper: { tune: true, ...sweeper } });
  if (!r.ok || !r.sweep) throw new Error(JSON.stringify(r));
  return r.sweep;
};

describe("a sweep's MLflow parent run", () => {
  it("logs the settings and the space as params MLflow accepts, without n_trials (adding trials changes it)", () => {
    const params = sweepParams(
      settingsOf({
        n_trials: 9,
        seed: 4,
        objective: "metrics/mAP50-95(B)",
        search_space: {
          lr0: { type: "float", low: 1e-5, high: 0.1, log: true },
          batch: { type: "categorical", choices: [8, 16] },
          close_mosaic: { type: "int", low: 0, high: 10, step: 2 },
        },
      }),
    );
    const byKey = Object.fromEntries(params.map((p) => [p.key, p.value]));
    expect(byKey).toMatchObject({
      "sweep.sampler": "TPESampler",
      "sweep.pruner": "successive_halving",
      "sweep.seed": "4",
      "sweep.objective": "metrics/mAP50-95(B)",
      "space.lr0": "float [0.00001, 0.1] log",
      "space.batch": "categorical [8,16]",
      "space.close_mosaic": "int [0, 10] step 2",
    });
    expect(Object.keys(byKey).some((k) => k.includes("n_trials"))).toBe(false);
    expect(params.every((p) => /^[A-Za-z0-9_\-. :/]+$/.test(p.key))).toBe(true);
    // The default space (Ultralytics' own) fits in a few batches of 100.
    expect(sweepParams(settingsOf({})).length).toBeLessThan(100);
  });

  it("best_value: the best so far per completed trial in trial order, at the trial's end time", () => {
    const at = (s: number) => new Date(s * 1000);
    const trials = [
      { number: 3, value: 0.5, finishedAt: at(30) },
      { number: 0, value: 0.4, finishedAt: at(10) },
      { number: 1, value: 0.7, finishedAt: at(20) },
    ];
    expect(bestValueSeries(trials, "maximize").map((m) => [m.step, m.value, m.timestamp])).toEqual([
      [0, 0.4, 10_000],
      [1, 0.7, 20_000],
      [3, 0.7, 30_000],
    ]);
    expect(bestValueSeries(trials, "minimize").map((m) => m.value)).toEqual([0.4, 0.4, 0.4]);
  });

  it("nests a trial's run by mlflow.parentRunId only once the parent is known", () => {
    expect(trialTags("s1", 2, null)).toEqual([
      { key: "wyolo.sweep_id", value: "s1" },
      { key: "wyolo.trial", value: "2" },
    ]);
    expect(trialTags("s1", 0, "run9")).toContainEqual({ key: "mlflow.parentRunId", value: "run9" });
  });
});

describe("advance step queue ids", () => {
  it("name the sweep and the reason, never with a colon", () => {
    expect(advanceJobId("cabc", "deadline", 1700)).toBe("sweep-cabc-deadline-1700");
    expect(advanceJobId("cabc", "trial-ended")).toMatch(/^sweep-cabc-trial-ended-\d+$/);
    expect(advanceJobId("cabc", "mlflow", 3)).not.toContain(":");
  });
});
