import type { SweepDetail, SweepSummary, SweepTrialPatch, SweepTrialRow } from "@wyolo/contracts";

export const sweepPath = (teamSlug: string, projectSlug: string, sweepId: string) => `/t/${teamSlug}/p/${projectSlug}/sweeps/${sweepId}`;

export const sweepKey = (sweepId: string) => ["sweep", sweepId];
export const sweepsKey = (projectId: string) => ["sweeps", projectId];

/** A trial that has run and has not told Optuna yet counts as running; pruned ones stop early. */
export type TrialView = SweepTrialRow & { label: "RUNNING" | "QUEUED" | "COMPLETE" | "PRUNED" | "FAIL" };

export function trialLabel(t: SweepTrialRow): TrialView["label"] {
  if (t.state) return t.state;
  if (t.prunedAtEpoch != null) return "PRUNED";
  if (t.jobStatus === "QUEUED") return "QUEUED";
  if (t.jobStatus === "FAILED" || t.jobStatus === "CANCELLED") return "FAIL";
  return "RUNNING";
}

/** A live trial change applied to the page's copy of the sweep: an epoch's objective, or changed fields (a new trial appends). */
export function applyTrialPatch(detail: SweepDetail, patch: SweepTrialPatch): SweepDetail {
  const { sweepId: _sweepId, number, ...rest } = patch;
  const current = detail.trials.find((t) => t.number === number);
  if ("epoch" in rest && "value" in rest && typeof rest.epoch === "number") {
    if (!current) return detail;
    const intermediate: [number, number][] = [
      ...current.intermediate.filter(([e]) => e !== rest.epoch),
      [rest.epoch, rest.value] as [number, number],
    ].sort((a, b) => a[0] - b[0]);
    return { ...detail, trials: detail.trials.map((t) => (t.number === number ? { ...t, intermediate } : t)) };
  }
  const fields = rest as Partial<SweepTrialRow>;
  if (current) return { ...detail, trials: detail.trials.map((t) => (t.number === number ? { ...t, ...fields } : t)) };
  // A trial this copy has not seen: only complete enough rows are shown; a refetch brings the rest.
  if (!fields.jobId) return detail;
  const row: SweepTrialRow = {
    number,
    jobId: fields.jobId,
    jobName: fields.jobName ?? `trial ${number}`,
    jobStatus: fields.jobStatus ?? "QUEUED",
    state: fields.state ?? null,
    params: fields.params ?? {},
    value: fields.value ?? null,
    intermediate: [],
    prunedAtEpoch: fields.prunedAtEpoch ?? null,
    startedAt: fields.startedAt ?? null,
    finishedAt: fields.finishedAt ?? null,
  };
  return { ...detail, trials: [...detail.trials, row].sort((a, b) => a.number - b.number) };
}

export const applySweepPatch = <T extends SweepSummary>(sweep: T, patch: Partial<SweepSummary>): T => ({ ...sweep, ...patch });

/**
 * Each finished trial's objective with the best so far, in trial-number order (the optimization
 * history). Only completed trials make the best, as for the sweep's own best: a pruned trial's
 * value is where it stopped.
 */
export function optimizationHistory(trials: SweepTrialRow[], direction: "maximize" | "minimize") {
  let best: number | null = null;
  return [...trials]
    .sort((a, b) => a.number - b.number)
    .filter((t) => t.value != null)
    .map((t) => {
      const v = t.value!;
      const pruned = trialLabel(t) === "PRUNED";
      if (!pruned) best = best == null ? v : direction === "maximize" ? Math.max(best, v) : Math.min(best, v);
      return { number: t.number, value: v, best, pruned };
    });
}

/** The last reported objective of a trial (its intermediate values), when any. */
export const lastIntermediate = (t: SweepTrialRow) => t.intermediate.at(-1) ?? null;

export function formatParam(v: unknown): string {
  if (typeof v === "number") {
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toPrecision(3).replace(/\.?0+$/, "");
  }
  return String(v);
}

export function formatValue(v: number | null | undefined): string {
  return v == null ? "—" : v.toFixed(4);
}

/** Sweep progress: trials that ended over the budget. */
export const sweepDone = (s: SweepSummary) => s.counts.complete + s.counts.pruned + s.counts.failed;
