import { describe, expect, it } from "vitest";
import { histogramBars, splitOrder } from "./stats-data";

describe("histogramBars", () => {
  it("labels each bin by its range", () => {
    expect(histogramBars({ edges: [0, 0.05, 0.1], counts: [3, 1] }, 3)).toEqual([
      { label: "0–0.05", count: 3 },
      { label: "0.05–0.1", count: 1 },
    ]);
  });
  it("pixel bins as whole numbers; a bin whose edges round together shows one number", () => {
    expect(histogramBars({ edges: [640, 640.2, 1280], counts: [5, 2] }, 0)).toEqual([
      { label: "640", count: 5 },
      { label: "640–1,280", count: 2 },
    ]);
  });
  it("missing edges still give a bar per count", () => {
    expect(histogramBars({ edges: [], counts: [1, 2] }, 0).map((b) => b.label)).toEqual(["0", "1"]);
  });
});

describe("splitOrder", () => {
  it("train, val, test, then others", () =>
    expect(splitOrder(["test", "extra", "val", "train"])).toEqual(["train", "val", "test", "extra"]));
});
