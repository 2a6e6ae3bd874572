import { describe, expect, it } from "vitest";
import {
  compareQuerySchema,
  defaultCompareMetrics,
  differingKeys,
  flattenParams,
  leaderboardQuerySchema,
  lowerIsBetter,
} from "../src/compare.ts";

describe("compare contracts", () => {
  it("flattens a stored config: train arguments by name, nested mappings dotted, lists as JSON, bookkeeping left out", () => {
    expect(
      flattenParams({
        model: "yolo11n.pt",
        task: "detect",
        gpus: 1,
        train: { epochs: 3, lr0: 0.01, augment: { mosaic: 1 }, classes: [0, 2], cache: false },
        metadata: { fake: {} },
        sweeper: { tune: true },
        logging: { keep: "all" },
      }),
    ).toEqual({ model: "yolo11n.pt", task: "detect", gpus: 1, epochs: 3, lr0: 0.01, "augment.mosaic": 1, classes: "[0,2]", cache: false });
    expect(flattenParams(null)).toEqual({});
  });

  it("lists the keys that differ; a missing key counts as null", () => {
    expect(
      differingKeys([
        { a: 1, b: 2, c: null },
        { a: 1, b: 3 },
        { a: 1, b: 2, d: "x" },
      ]),
    ).toEqual(["b", "d"]);
    expect(differingKeys([{ a: 1 }, { a: 1 }])).toEqual([]);
  });

  it("losses rank lower-is-better; defaults chart the headline and validation losses", () => {
    expect(lowerIsBetter("val/box_loss")).toBe(true);
    expect(lowerIsBetter("metrics/mAP50-95(B)")).toBe(false);
    expect(defaultCompareMetrics(["lr/pg0", "val/cls_loss", "metrics/mAP50-95(B)", "val/box_loss", "train/box_loss"])).toEqual([
      "metrics/mAP50-95(B)",
      "val/box_loss",
      "val/cls_loss",
    ]);
  });

  it("a selection is 2–20 distinct well-formed ids, messages on `jobs`", () => {
    expect(compareQuerySchema.parse({ jobs: " a, b ,a" }).jobs).toEqual(["a", "b"]);
    for (const jobs of [undefined, "a", "a,a", "a,b c", Array.from({ length: 21 }, (_, i) => `j${i}`).join(",")]) {
      const r = compareQuerySchema.safeParse({ jobs });
      expect(r.success, String(jobs)).toBe(false);
      expect(r.error!.issues[0]!.path[0]).toBe("jobs");
    }
    expect(leaderboardQuerySchema.parse({})).toEqual({ limit: 50 });
    expect(leaderboardQuerySchema.safeParse({ limit: "201" }).success).toBe(false);
  });
});
