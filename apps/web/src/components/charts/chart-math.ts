// The pure parts of the chart (components/charts/line-chart.tsx): aligning series on one x axis, EMA
// smoothing, the y range and the tick labels. Kept apart so they are unit-tested without a browser.

/** One point of a series: x (an epoch, or seconds for a time axis) and y (null: no value there). */
export type ChartPoint = readonly [x: number, y: number | null];

/** One line of a chart (see line-chart.tsx for how each field is drawn). */
export type ChartSeries = {
  id: string;
  label: string;
  points: readonly ChartPoint[];
  color?: string;
  dash?: number[];
  width?: number;
};

/**
 * Series with their own x values on one shared, sorted x array (what uPlot draws): a series without a
 * point at some x gets null there (the chart spans such gaps). Later duplicates of an x win.
 */
export function alignSeries(series: readonly (readonly ChartPoint[])[]): { xs: number[]; ys: (number | null)[][] } {
  const all = new Set<number>();
  for (const points of series) for (const [x] of points) if (Number.isFinite(x)) all.add(x);
  const xs = [...all].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((points) => {
    const row: (number | null)[] = Array.from({ length: xs.length }, () => null);
    for (const [x, y] of points) {
      const i = index.get(x);
      if (i !== undefined) row[i] = y !== null && Number.isFinite(y) ? y : null;
    }
    return row;
  });
  return { xs, ys };
}

/**
 * Exponential moving average with TensorBoard's debiasing (the first values are not pulled towards 0).
 * `weight` 0 returns the values as they are; gaps (null) stay gaps and do not reset the average.
 */
export function ema(values: readonly (number | null)[], weight: number): (number | null)[] {
  const w = Math.min(Math.max(weight, 0), 0.999);
  if (w === 0) return [...values];
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    last = last * w + (1 - w) * v;
    n += 1;
    return last / (1 - w ** n);
  });
}

/** On a log axis only positive values can be drawn: the rest become gaps. */
export const positiveOnly = (values: readonly (number | null)[]) => values.map((v) => (v !== null && v > 0 ? v : null));

/**
 * The y range for data between `min` and `max` (null: no data). A flat series gets a range around its
 * value (all zeros: 0–1, not 0–4); data that never goes below zero keeps 0 as its floor; a log axis
 * spans whole decades.
 */
export function yRange(min: number | null, max: number | null, log = false): [number, number] {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return log ? [0.1, 1] : [0, 1];
  if (log) {
    if (max <= 0) return [0.1, 1];
    const lo = min > 0 ? min : max;
    const a = Math.floor(Math.log10(lo));
    const b = Math.ceil(Math.log10(max));
    return a === b ? [Number(`1e${a - 1}`), Number(`1e${b + 1}`)] : [Number(`1e${a}`), Number(`1e${b}`)];
  }
  if (min === max) {
    if (min === 0) return [0, 1];
    const pad = Math.abs(min) * 0.1;
    return [min >= 0 && min - pad < 0 ? 0 : min - pad, min + pad];
  }
  const pad = (max - min) * 0.05;
  return [min >= 0 && min - pad < 0 ? 0 : min - pad, max + pad];
}

const trimMantissa = (s: string) => s.replace(/\.?0+e/, "e").replace("e+", "e");
const exponent = (v: number, digits: number) => (v === 0 ? "0" : trimMantissa(v.toExponential(digits)));
const EPS = 1e-9;

/** True when every label reads as a different number (what "3e-4 twice" broke). */
const distinct = (labels: string[]) => new Set(labels).size === labels.length;

/**
 * Labels for an axis' tick values, all with the same notation. Linear: fixed decimals, as many as the
 * ticks need to be shown exactly (steps of 0.015 → 0.000, 0.015, 0.030), plain numbers from 0.001 to
 * 100,000, exponents outside that (1e-4, 2.5e-4). Log: each tick on its own (0.001, 0.01, 0.1, 1).
 */
export function formatTicks(values: readonly number[], log = false): string[] {
  if (values.length === 0) return [];
  if (log) return values.map((v) => formatValue(v, 2));
  const maxAbs = Math.max(...values.map(Math.abs));
  if (maxAbs === 0) return values.map(() => "0");
  if (maxAbs >= 1e5 || maxAbs < 1e-3) {
    for (let digits = 0; digits <= 8; digits++) {
      const labels = values.map((v) => exponent(v, digits));
      if (distinct(labels) && values.every((v, i) => Math.abs(Number(labels[i]) - v) <= EPS * maxAbs)) return labels;
    }
    return values.map((v) => exponent(v, 8));
  }
  for (let decimals = 0; decimals <= 10; decimals++) {
    const exact = values.every((v) => Math.abs(Number(v.toFixed(decimals)) - v) <= EPS * Math.max(1, maxAbs));
    if (exact) return values.map((v) => fixed(v, decimals));
  }
  // Ticks that are not round numbers at all: as many decimals as keep them apart.
  for (let decimals = 0; decimals <= 10; decimals++) {
    const labels = values.map((v) => fixed(v, decimals));
    if (distinct(labels)) return labels;
  }
  return values.map((v) => String(v));
}

/** Fixed decimals, without "-0". */
const fixed = (v: number, decimals: number) => {
  const s = v.toFixed(decimals);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
};

/**
 * One value for a legend or tooltip: `significant` digits (4 by default), exponents for tiny or huge
 * magnitudes, trailing zeros dropped (0.0003 → 3e-4, 0.51234 → 0.5123, 12345.6 → 12346).
 */
export function formatValue(v: number | null | undefined, significant = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  if (v === 0) return "0";
  const abs = Math.abs(v);
  if (abs < 1e-3 || abs >= 1e6) return exponent(v, significant - 1);
  if (abs >= 10 ** significant) return String(Math.round(v));
  return String(Number(v.toPrecision(significant)));
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/**
 * Clock labels for a time axis (Unix seconds, local time): HH:MM when every tick is on a whole minute,
 * else HH:MM:SS; the date is left to the title (a job's series spans hours, not days).
 */
export function formatTimeTicks(values: readonly number[]): string[] {
  const dates = values.map((v) => new Date(Math.round(v) * 1000));
  const seconds = dates.some((d) => d.getSeconds() !== 0);
  return dates.map((d) => `${pad2(d.getHours())}:${pad2(d.getMinutes())}${seconds ? `:${pad2(d.getSeconds())}` : ""}`);
}
