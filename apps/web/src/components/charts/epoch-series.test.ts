import { describe, expect, it } from "vitest";
import type { JobEpochRow } from "@wyolo/contracts";
import { epochSeries, VAL_DASH } from "./epoch-series";

const row = (epoch: number, extra: Partial<JobEpochRow> = {}): JobEpochRow => ({
  epoch,
  losses: { "train/box_loss": 2 / epoch, "train/cls_loss": 1 / epoch },
  metrics: { "metrics/mAP50(B)": epoch / 10, "val/box_loss": 2.5 / epoch, "val/cls_loss": null },
  lr: { "lr/pg0": 0.01, "lr/pg1": 0.01, "lr/pg2": 0.01 },
  epochTime: 1,
  ...extra,
});

describe("epochSeries", () => {
  it("charts validation losses beside their train twins: same colour, dashed", () => {
    const { losses } = epochSeries([row(1), row(2)]);
    expect(losses.map((s) => s.id)).toEqual(["train/box_loss", "val/box_loss", "train/cls_loss"]);
    const [train, val] = losses;
    expect(val!.color).toBe(train!.color);
    expect(val!.dash).toEqual(VAL_DASH);
    expect(train!.dash).toBeUndefined();
    expect(val!.points).toEqual([
      [1, 2.5],
      [2, 1.25],
    ]);
  });

  it("gives every learning-rate group its own colour, width and dash, so equal lines stay visible", () => {
    const { lr } = epochSeries([row(1)]);
    expect(lr.map((s) => s.label)).toEqual(["lr pg0", "lr pg1", "lr pg2"]);
    expect(new Set(lr.map((s) => s.color)).size).toBe(3);
    expect(new Set(lr.map((s) => s.width)).size).toBe(3);
    expect(new Set(lr.map((s) => JSON.stringify(s.dash ?? null))).size).toBe(3);
  });

  it("keeps metrics apart, labelled without their prefix, and skips missing values", () => {
    const { metrics } = epochSeries([row(1), row(2, { metrics: { "metrics/mAP50(B)": null } })]);
    expect(metrics).toEqual([{ id: "metrics/mAP50(B)", label: "mAP50(B)", points: [[1, 0.1]] }]);
  });

  it("answers empty groups without epochs", () => {
    expect(epochSeries([])).toEqual({ losses: [], metrics: [], lr: [] });
  });
});
