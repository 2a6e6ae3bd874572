import { COMPARE_MAX_JOBS } from "@wyolo/contracts";

/** A comma-separated URL parameter as a list: trimmed, without blanks or repeats. */
export function parseList(value: string | null | undefined): string[] {
  return [
    ...new Set(
      (value ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

/**
 * The compare page's shareable URL: the jobs in column order (at most COMPARE_MAX_JOBS), and the charted
 * metrics when they are not the defaults. Commas stay readable in the address bar.
 */
export function compareHref(teamSlug: string, jobs: readonly string[], metrics?: readonly string[] | null): string {
  const parts = [`jobs=${jobs.slice(0, COMPARE_MAX_JOBS).map(encodeURIComponent).join(",")}`];
  if (metrics && metrics.length) parts.push(`metrics=${metrics.map(encodeURIComponent).join(",")}`);
  return `/t/${teamSlug}/compare?${parts.join("&")}`;
}

/** The leaderboard's URL for one metric. */
export const leaderboardHref = (base: string, metric?: string | null) =>
  `${base}/leaderboard${metric ? `?metric=${encodeURIComponent(metric)}` : ""}`;

/** A metric key as a short label: `metrics/mAP50-95(B)` → `mAP50-95(B)`, `val/box_loss` stays. */
export const metricName = (key: string) => key.replace(/^metrics\//, "");

/** Which value of a row is best: the highest, or for losses the lowest; null when fewer than two values compare. */
export function bestIndex(values: readonly (number | null | undefined)[], lowerBetter: boolean): number | null {
  let best: number | null = null;
  let count = 0;
  values.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isFinite(v)) return;
    count++;
    if (best === null || (lowerBetter ? v < values[best]! : v > values[best]!)) best = i;
  });
  return count > 1 ? best : null;
}
