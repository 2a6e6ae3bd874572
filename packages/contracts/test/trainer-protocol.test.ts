import { describe, expect, it } from "vitest";
import { bestEpochOf, describeAutoBatch, headlineMetric, parseTrainerLine, taskFitness, type AutoBatchEvent } from "../src/index.ts";

describe("trainer protocol", () => {
  it("parses each event type and applies defaults", () => {
    const epoch = parseTrainerLine(JSON.stringify({ v: 1, type: "epoch", epoch: 2, totalEpochs: 5, metrics: { "metrics/mAP50(B)": 0.4 } }));
    expect(epoch).toEqual({
      ok: true,
      event: expect.objectContaining({ type: "epoch", losses: {}, lr: {}, metrics: { "metrics/mAP50(B)": 0.4 } }),
    });
    const failed = parseTrainerLine(JSON.stringify({ v: 1, type: "failed", message: "boom" }));
    expect(failed.ok && failed.event).toMatchObject({ type: "failed", errorClass: "UNKNOWN" });
    const finished = parseTrainerLine(JSON.stringify({ v: 1, type: "finished" }));
    expect(finished.ok && finished.event).toMatchObject({ reason: "completed" });
  });

  it("reports malformed lines instead of throwing", () => {
    expect(parseTrainerLine("not json")).toEqual({ ok: false, error: "not JSON" });
    expect(parseTrainerLine(JSON.stringify({ v: 2, type: "epoch" })).ok).toBe(false);
    expect(parseTrainerLine(JSON.stringify({ v: 1, type: "epoch", epoch: 0, totalEpochs: 1 })).ok).toBe(false);
    expect(parseTrainerLine(JSON.stringify({ v: 1, type: "teleport" })).ok).toBe(false);
    expect(parseTrainerLine("null").ok).toBe(false);
  });

  it("names each task's own headline metric: mask mAP for segment, pose mAP for pose, top-1 for classify, box mAP otherwise", () => {
    expect(headlineMetric({ "metrics/mAP50(B)": 0.8, "metrics/mAP50-95(B)": 0.5 })).toEqual({ name: "metrics/mAP50-95(B)", value: 0.5 });
    expect(headlineMetric({ "metrics/accuracy_top1": 0.9, "metrics/accuracy_top5": 1 })).toEqual({
      name: "metrics/accuracy_top1",
      value: 0.9,
    });
    // (B) is always there for segment and pose: their own comes first (the pose run of issue 16: (B) 0, (P) 0.00019).
    expect(headlineMetric({ "metrics/mAP50-95(B)": 0, "metrics/mAP50-95(P)": 0.00019 })).toEqual({
      name: "metrics/mAP50-95(P)",
      value: 0.00019,
    });
    expect(headlineMetric({ "metrics/mAP50-95(B)": 0.4, "metrics/mAP50-95(M)": 0.3 })).toEqual({ name: "metrics/mAP50-95(M)", value: 0.3 });
    expect(headlineMetric({ "metrics/mAP50-95(B)": null })).toBeNull();
  });

  it("computes Ultralytics 8.3's fitness per task (metrics.py): weighted box, plus masks or keypoints, classify's mean of top-1 and top-5", () => {
    expect(taskFitness({ "metrics/mAP50(B)": 0.5, "metrics/mAP50-95(B)": 0.3 })).toBeCloseTo(0.32);
    const seg = { "metrics/mAP50(B)": 0.5, "metrics/mAP50-95(B)": 0.3, "metrics/mAP50(M)": 0.4, "metrics/mAP50-95(M)": 0.2 };
    expect(taskFitness(seg)).toBeCloseTo(0.32 + 0.22);
    expect(
      taskFitness({ "metrics/mAP50(B)": 0.1, "metrics/mAP50-95(B)": 0, "metrics/mAP50(P)": 0.01, "metrics/mAP50-95(P)": 0.001 }),
    ).toBeCloseTo(0.01 + 0.001 + 0.0009);
    expect(taskFitness({ "metrics/accuracy_top1": 0.6, "metrics/accuracy_top5": 1 })).toBeCloseTo(0.8);
    expect(taskFitness({ "metrics/mAP50-95(B)": null, "metrics/mAP50(B)": 0.2 })).toBeCloseTo(0.02);
    expect(taskFitness({ "val/box_loss": 1 })).toBeNull();
  });

  it("takes best.pt's epoch: the highest fitness, the LAST epoch on a tie, reported with the task's headline metric", () => {
    // Fitness, not the headline, decides: epoch 2 has the higher mAP50-95, epoch 3 the higher fitness.
    const detect = [
      { epoch: 1, metrics: { "metrics/mAP50(B)": 0.1, "metrics/mAP50-95(B)": 0.05 } },
      { epoch: 2, metrics: { "metrics/mAP50(B)": 0.2, "metrics/mAP50-95(B)": 0.3 } },
      { epoch: 3, metrics: { "metrics/mAP50(B)": 0.9, "metrics/mAP50-95(B)": 0.29 } },
    ];
    expect(bestEpochOf(detect)).toEqual({ name: "metrics/mAP50-95(B)", value: 0.29, epoch: 3 });
    // Pose: box fitness 0 throughout, keypoints tie at epochs 5 and 15: best.pt is epoch 15's.
    const pose = Array.from({ length: 15 }, (_, i) => ({
      epoch: i + 1,
      metrics: { "metrics/mAP50-95(B)": 0, "metrics/mAP50(B)": 0, "metrics/mAP50-95(P)": [5, 15].includes(i + 1) ? 0.00019 : 0.0001 },
    }));
    expect(bestEpochOf(pose)).toEqual({ name: "metrics/mAP50-95(P)", value: 0.00019, epoch: 15 });
    // The trainer's own fitness ranks when every epoch has it (here it disagrees with the computed one on purpose).
    const own = [
      { epoch: 1, metrics: { "metrics/mAP50-95(M)": 0.5, "metrics/mAP50-95(B)": 0.5, fitness: 0.9 } },
      { epoch: 2, metrics: { "metrics/mAP50-95(M)": 0.6, "metrics/mAP50-95(B)": 0.6, fitness: 0.1 } },
    ];
    expect(bestEpochOf(own)).toEqual({ name: "metrics/mAP50-95(M)", value: 0.5, epoch: 1 });
    // …and not when one lacks it (a row rebuilt from results.csv): then all are computed.
    expect(bestEpochOf([own[0]!, { epoch: 2, metrics: { "metrics/mAP50-95(M)": 0.6, "metrics/mAP50-95(B)": 0.6 } }])).toMatchObject({
      epoch: 2,
    });
    expect(bestEpochOf([{ epoch: 1, metrics: { "val/box_loss": 1 } }])).toBeNull();
  });

  it("describes AutoBatch's decision for the timeline", () => {
    const ev = (fields: Partial<AutoBatchEvent>): AutoBatchEvent => ({ v: 1, type: "autobatch", batch: 16, reason: "fits", ...fields });
    expect(
      describeAutoBatch(ev({ computed: 3146, batch: 512, reason: "ceiling", ceiling: 512, fraction: 0.6, memoryTotalGb: 139.8 })),
    ).toBe("AutoBatch: 3146 at 60 % of 139.8 GB → 512 (ceiling, AUTO_BATCH_MAX 512)");
    expect(describeAutoBatch(ev({ computed: 331, batch: 331, fraction: 0.6, memoryTotalGb: 139.8, predictedShare: 0.6 }))).toBe(
      "AutoBatch: 331 at 60 % of 139.8 GB → 331; predicted 60 % of GPU memory",
    );
    expect(
      describeAutoBatch(ev({ computed: 469, batch: 300, reason: "images", images: 300, fraction: 0.6, memoryTotalGb: 139.8 })),
    ).toContain("→ 300 (the training set has 300 images)");
    expect(describeAutoBatch(ev({ reason: "cpu", device: "cpu" }))).toBe("AutoBatch: no CUDA GPU (cpu) → 16, Ultralytics' default batch");
    expect(parseTrainerLine(JSON.stringify({ v: 1, type: "autobatch", batch: 512, reason: "ceiling", computed: 3146 })).ok).toBe(true);
    expect(parseTrainerLine(JSON.stringify({ v: 1, type: "autobatch", batch: 0, reason: "fits" })).ok).toBe(false);
  });
});
