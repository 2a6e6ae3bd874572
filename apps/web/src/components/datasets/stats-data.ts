/** Histogram bins as bars: `edges` has one more entry than `counts`; each bar is labelled by its range. */
export function histogramBars(hist: { edges: number[]; counts: number[] }, digits: number): { label: string; count: number }[] {
  const fmt = (v: number) => (digits === 0 ? Math.round(v).toLocaleString("en-US") : Number(v.toFixed(digits)).toString());
  return hist.counts.map((count, i) => {
    const lo = hist.edges[i];
    const hi = hist.edges[i + 1];
    const label = lo === undefined ? String(i) : hi === undefined || fmt(lo) === fmt(hi) ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`;
    return { label, count };
  });
}

const SPLIT_RANK: Record<string, number> = { train: 0, val: 1, valid: 1, validation: 1, test: 2 };
/** train, val, test first, then any others by name. */
export const splitOrder = (splits: string[]) =>
  [...splits].sort((a, b) => (SPLIT_RANK[a] ?? 9) - (SPLIT_RANK[b] ?? 9) || a.localeCompare(b));
