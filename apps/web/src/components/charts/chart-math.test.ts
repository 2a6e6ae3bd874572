import { describe, expect, it } from "vitest";
import { alignSeries, ema, formatTicks, formatTimeTicks, formatValue, positiveOnly, yRange } from "./chart-math";

describe("formatTicks", () => {
  it("keeps 3e-4 apart from 2.5e-4 (the old axis showed 3e-4 twice)", () => {
    expect(formatTicks([0.0001, 0.00015, 0.0002, 0.00025, 0.0003])).toEqual(["1e-4", "1.5e-4", "2e-4", "2.5e-4", "3e-4"]);
  });

  it("shows steps of 0.015 with three decimals, not rounded to two", () => {
    expect(formatTicks([0, 0.015, 0.03, 0.045, 0.06])).toEqual(["0.000", "0.015", "0.030", "0.045", "0.060"]);
  });

  it("uses no decimals for whole numbers and a few for round steps", () => {
    expect(formatTicks([0, 5, 10, 15])).toEqual(["0", "5", "10", "15"]);
    expect(formatTicks([0.2, 0.4, 0.6])).toEqual(["0.2", "0.4", "0.6"]);
    expect(formatTicks([0.25, 0.5, 0.75, 1])).toEqual(["0.25", "0.50", "0.75", "1.00"]);
  });

  it("reads an all-zero axis as 0 and never prints -0", () => {
    expect(formatTicks([0, 0])).toEqual(["0", "0"]);
    expect(formatTicks([-0.5, -0, 0.5])).toEqual(["-0.5", "0.0", "0.5"]);
  });

  it("every label is distinct for ticks that are close together", () => {
    const ticks = [1.0001, 1.0002, 1.0003];
    const labels = formatTicks(ticks);
    expect(new Set(labels).size).toBe(3);
    expect(labels).toEqual(["1.0001", "1.0002", "1.0003"]);
  });

  it("uses exponents for large magnitudes", () => {
    expect(formatTicks([0, 200_000, 400_000])).toEqual(["0", "2e5", "4e5"]);
  });

  it("formats log ticks one by one", () => {
    expect(formatTicks([0.0001, 0.001, 0.01, 0.1, 1, 10], true)).toEqual(["1e-4", "0.001", "0.01", "0.1", "1", "10"]);
  });
});

describe("formatValue", () => {
  it("keeps four significant digits and drops trailing zeros", () => {
    expect(formatValue(0.51234)).toBe("0.5123");
    expect(formatValue(0.5)).toBe("0.5");
    expect(formatValue(0.0003)).toBe("3e-4");
    expect(formatValue(0.000125)).toBe("1.25e-4");
    expect(formatValue(12345.6)).toBe("12346");
    expect(formatValue(0)).toBe("0");
    expect(formatValue(null)).toBe("—");
    expect(formatValue(Number.NaN)).toBe("—");
  });
});

describe("yRange", () => {
  it("gives an all-zero series a sane range", () => {
    expect(yRange(0, 0)).toEqual([0, 1]);
  });

  it("puts a flat non-zero series in the middle of its range", () => {
    const [lo, hi] = yRange(2, 2);
    expect(lo).toBeCloseTo(1.8);
    expect(hi).toBeCloseTo(2.2);
    const [nlo, nhi] = yRange(-2, -2);
    expect(nlo).toBeCloseTo(-2.2);
    expect(nhi).toBeCloseTo(-1.8);
  });

  it("pads a little, keeping 0 as the floor of non-negative data", () => {
    expect(yRange(0.01, 1)).toEqual([0, 1 + 0.99 * 0.05]);
    const [lo, hi] = yRange(10, 20);
    expect(lo).toBeCloseTo(9.5);
    expect(hi).toBeCloseTo(20.5);
  });

  it("spans whole decades on a log axis", () => {
    expect(yRange(0.0003, 0.01, true)).toEqual([1e-4, 0.01]);
    expect(yRange(0.5, 0.5, true)).toEqual([0.1, 1]);
    expect(yRange(1, 1, true)).toEqual([0.1, 10]);
    expect(yRange(null, null, true)).toEqual([0.1, 1]);
  });

  it("falls back to 0–1 without data", () => {
    expect(yRange(null, null)).toEqual([0, 1]);
  });
});

describe("ema", () => {
  it("returns the values unchanged at weight 0", () => {
    expect(ema([1, 2, null, 4], 0)).toEqual([1, 2, null, 4]);
  });

  it("is debiased: a constant series stays constant from its first point", () => {
    for (const v of ema([3, 3, 3, 3], 0.9)) expect(v).toBeCloseTo(3);
  });

  it("smooths a step and keeps gaps as gaps", () => {
    const out = ema([0, 0, null, 10, 10], 0.5);
    expect(out[2]).toBeNull();
    expect(out[0]).toBe(0);
    // After the step, the average lies between the old and the new level.
    expect(out[3]!).toBeGreaterThan(0);
    expect(out[3]!).toBeLessThan(10);
    expect(out[4]!).toBeGreaterThan(out[3]!);
  });

  it("matches the formula: last = last·w + (1−w)·v, divided by 1 − wⁿ", () => {
    const w = 0.6;
    const out = ema([1, 2], w);
    const l1 = (1 - w) * 1;
    const l2 = l1 * w + (1 - w) * 2;
    expect(out[0]).toBeCloseTo(l1 / (1 - w));
    expect(out[1]).toBeCloseTo(l2 / (1 - w ** 2));
  });
});

describe("alignSeries", () => {
  it("puts series with different epochs on one x axis, null where a series has no point", () => {
    const { xs, ys } = alignSeries([
      [
        [1, 0.5],
        [2, 0.4],
      ],
      [
        [2, 0.9],
        [3, 0.8],
      ],
    ]);
    expect(xs).toEqual([1, 2, 3]);
    expect(ys).toEqual([
      [0.5, 0.4, null],
      [null, 0.9, 0.8],
    ]);
  });

  it("drops non-finite values", () => {
    expect(alignSeries([[[1, Number.NaN]]]).ys).toEqual([[null]]);
  });
});

describe("positiveOnly", () => {
  it("turns zeros and negatives into gaps", () => {
    expect(positiveOnly([0, 1, -1, null])).toEqual([null, 1, null, null]);
  });
});

describe("formatTimeTicks", () => {
  const at = (h: number, m: number, sec = 0) => new Date(2026, 11, 1, h, m, sec).getTime() / 1000;
  it("shows hours and minutes when the ticks fall on whole minutes", () => {
    expect(formatTimeTicks([at(9, 58), at(10, 0), at(10, 2)])).toEqual(["09:58", "10:00", "10:02"]);
  });
  it("adds seconds when a tick needs them", () => {
    expect(formatTimeTicks([at(10, 0), at(10, 0, 30), at(10, 1)])).toEqual(["10:00:00", "10:00:30", "10:01:00"]);
  });
});
