import { describe, expect, it } from "vitest";
import { parseTrainerLine, pickBestMetric } from "../src/index.ts";

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

  it("picks mAP50-95 for detection and top-1 accuracy for classification", () => {
    expect(pickBestMetric({ "metrics/mAP50(B)": 0.8, "metrics/mAP50-95(B)": 0.5 })).toEqual({ name: "metrics/mAP50-95(B)", value: 0.5 });
    expect(pickBestMetric({ "metrics/accuracy_top1": 0.9, "metrics/accuracy_top5": 1 })).toEqual({
      name: "metrics/accuracy_top1",
      value: 0.9,
    });
    expect(pickBestMetric({ "metrics/mAP50-95(B)": null })).toBeNull();
  });
});
