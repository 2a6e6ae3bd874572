import { describe, expect, it } from "vitest";
import { bestIndex, compareHref, leaderboardHref, metricName, parseList } from "./compare-url";

describe("compare URLs", () => {
  it("parses a list parameter without blanks or repeats, in order", () => {
    expect(parseList(" b, a,,b ,c")).toEqual(["b", "a", "c"]);
    expect(parseList(null)).toEqual([]);
  });

  it("writes the jobs in order, metrics only when given, at most 20 jobs", () => {
    expect(compareHref("acme", ["j1", "j2"])).toBe("/t/acme/compare?jobs=j1,j2");
    expect(compareHref("acme", ["j1", "j2"], ["metrics/mAP50-95(B)", "val/box_loss"])).toBe(
      "/t/acme/compare?jobs=j1,j2&metrics=metrics%2FmAP50-95(B),val%2Fbox_loss",
    );
    expect(parseList(new URL(`http://x${compareHref("t", ["a", "b"], ["metrics/mAP50-95(B)"])}`).searchParams.get("metrics"))).toEqual([
      "metrics/mAP50-95(B)",
    ]);
    const many = Array.from({ length: 25 }, (_, i) => `j${i}`);
    expect(parseList(new URL(`http://x${compareHref("t", many)}`).searchParams.get("jobs"))).toHaveLength(20);
  });

  it("leaderboard URL carries the metric", () => {
    expect(leaderboardHref("/t/a/p/b", "val/box_loss")).toBe("/t/a/p/b/leaderboard?metric=val%2Fbox_loss");
    expect(leaderboardHref("/t/a/p/b")).toBe("/t/a/p/b/leaderboard");
    expect(metricName("metrics/mAP50(B)")).toBe("mAP50(B)");
  });

  it("picks the best value of a row: highest, or lowest for losses; none with a single value", () => {
    expect(bestIndex([0.2, 0.5, null, 0.4], false)).toBe(1);
    expect(bestIndex([0.2, 0.5, null, 0.4], true)).toBe(0);
    expect(bestIndex([null, 0.3], false)).toBeNull();
  });
});
