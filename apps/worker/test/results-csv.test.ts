import { describe, expect, it } from "vitest";
import { parseResultsCsv } from "../src/training/results-csv.ts";
import { bestEpochOf as bestOfEpochs } from "@wyolo/contracts";

// Headers as Ultralytics 8.3 writes them (time is cumulative seconds since the run began).
const detect = [
  "epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,lr/pg2",
  "1,10.5,1.2,2.5,1.1,0.5,0.4,0.3,0.2,1.3,2.6,1.2,0.07,0.0033,0.0033",
  "2,21.25,1.1,2.2,1.05,0.55,0.45,0.35,0.25,1.25,2.4,1.15,0.04,0.0061,0.0061",
  "3,30.75,1.0,2.0,1.0,0.6,0.5,0.4,0.22,1.2,2.2,1.1,0.01,0.0082,0.0082",
].join("\n");

const classify = [
  "epoch,time,train/loss,metrics/accuracy_top1,metrics/accuracy_top5,val/loss,lr/pg0,lr/pg1,lr/pg2",
  "1,4,2.3,0.31,0.8,2.1,0.000119,0.000119,0.000119",
  "2,8.5,1.9,0.44,0.9,1.8,0.000226,0.000226,0.000226",
].join("\r\n");

describe("parseResultsCsv", () => {
  it("splits an 8.3 detect results.csv like the trainer does, with per-epoch times from the cumulative column", () => {
    const rows = parseResultsCsv(detect);
    expect(rows.map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(rows.map((r) => r.epochTime)).toEqual([10.5, 10.75, 9.5]);
    expect(rows[1]).toEqual({
      epoch: 2,
      losses: {
        "train/box_loss": 1.1,
        "train/cls_loss": 2.2,
        "train/dfl_loss": 1.05,
        "val/box_loss": 1.25,
        "val/cls_loss": 2.4,
        "val/dfl_loss": 1.15,
      },
      metrics: { "metrics/precision(B)": 0.55, "metrics/recall(B)": 0.45, "metrics/mAP50(B)": 0.35, "metrics/mAP50-95(B)": 0.25 },
      lr: { "lr/pg0": 0.04, "lr/pg1": 0.0061, "lr/pg2": 0.0061 },
      epochTime: 10.75,
    });
    expect(bestOfEpochs(rows)).toEqual({ name: "metrics/mAP50-95(B)", value: 0.25, epoch: 2 });
  });

  it("reads a classify results.csv (CRLF) and its top-1 accuracy", () => {
    const rows = parseResultsCsv(classify);
    expect(rows).toHaveLength(2);
    expect(rows[1]!.metrics["metrics/accuracy_top1"]).toBe(0.44);
    expect(rows[1]!.losses).toEqual({ "train/loss": 1.9, "val/loss": 1.8 });
    expect(rows[1]!.epochTime).toBe(4.5);
    expect(bestOfEpochs(rows)).toEqual({ name: "metrics/accuracy_top1", value: 0.44, epoch: 2 });
  });

  it("reads space-padded headers (older releases) and leaves times unknown without a time column or a previous row", () => {
    const rows = parseResultsCsv(
      "                  epoch,      train/box_loss,  metrics/mAP50-95(B)\n                    2,             1.5,                0.1\n                    3,             1.4,                 nan\n",
    );
    expect(rows).toEqual([
      { epoch: 2, losses: { "train/box_loss": 1.5 }, metrics: { "metrics/mAP50-95(B)": 0.1 }, lr: {}, epochTime: null },
      { epoch: 3, losses: { "train/box_loss": 1.4 }, metrics: { "metrics/mAP50-95(B)": null }, lr: {}, epochTime: null },
    ]);
  });

  it("skips bad rows and returns nothing for an empty or headless file; a clock that went back gives no time", () => {
    expect(parseResultsCsv("")).toEqual([]);
    expect(parseResultsCsv("a,b\n1,2\n")).toEqual([]);
    const rows = parseResultsCsv("epoch,time,metrics/mAP50-95(B)\nx,1,0.1\n0,1,0.1\n1,5,0.1\n2,3,0.2\n");
    expect(rows.map((r) => [r.epoch, r.epochTime])).toEqual([
      [1, 5],
      [2, null],
    ]);
  });
});

describe("bestOfEpochs", () => {
  it("takes the metric the latest epoch reports, at the epoch of best.pt: the LAST epoch on a tie, as Ultralytics replaces best.pt", () => {
    expect(bestOfEpochs([])).toBeNull();
    expect(bestOfEpochs([{ epoch: 1, metrics: { "val/box_loss": 1 } }])).toBeNull();
    expect(
      bestOfEpochs([
        { epoch: 3, metrics: { "metrics/mAP50-95(B)": 0.5 } },
        { epoch: 1, metrics: { "metrics/mAP50-95(B)": 0.5 } },
        { epoch: 2, metrics: { "metrics/mAP50-95(B)": null } },
      ]),
    ).toEqual({ name: "metrics/mAP50-95(B)", value: 0.5, epoch: 3 });
  });
});
