import { clsx } from "clsx";
import type { SweepStatus, SweepSummary } from "@wyolo/contracts";
import { ProgressBar } from "@/components/job-status";
import { formatValue, sweepDone, type TrialView } from "@/lib/sweeps";

const styles: Record<SweepStatus, string> = {
  QUEUED: "bg-zinc-100 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300",
  RUNNING: "bg-indigo-100 text-indigo-800 dark:bg-indigo-900/40 dark:text-indigo-300",
  COMPLETED: "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/40 dark:text-emerald-300",
  CANCELLED: "bg-amber-100 text-amber-800 dark:bg-amber-900/40 dark:text-amber-300",
  FAILED: "bg-red-100 text-red-800 dark:bg-red-900/40 dark:text-red-300",
};

export function SweepStatusBadge({ status, cancelling }: { status: SweepStatus; cancelling?: boolean }) {
  return (
    <span
      data-testid="sweep-status"
      className={clsx("inline-flex items-center gap-1 rounded px-2 py-0.5 text-xs font-semibold", styles[status])}
    >
      {status === "RUNNING" && <span className="size-1.5 animate-pulse rounded-full bg-current" aria-hidden />}
      {status}
      {cancelling && status !== "CANCELLED" && <span className="font-normal">· cancelling</span>}
    </span>
  );
}

const trialStyles: Record<TrialView["label"], string> = {
  QUEUED: "bg-zinc-100 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300",
  RUNNING: "bg-indigo-100 text-indigo-800 dark:bg-indigo-900/40 dark:text-indigo-300",
  COMPLETE: "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/40 dark:text-emerald-300",
  PRUNED: "bg-zinc-200 text-zinc-700 dark:bg-zinc-700 dark:text-zinc-200",
  FAIL: "bg-red-100 text-red-800 dark:bg-red-900/40 dark:text-red-300",
};

export function TrialStateBadge({ label, prunedAtEpoch }: { label: TrialView["label"]; prunedAtEpoch?: number | null }) {
  return (
    <span
      data-testid="trial-state"
      className={clsx("inline-flex items-center gap-1 whitespace-nowrap rounded px-2 py-0.5 text-xs font-semibold", trialStyles[label])}
    >
      {label === "PRUNED" && <span aria-hidden>✂</span>}
      {label}
      {label === "PRUNED" && prunedAtEpoch != null && <span className="font-normal">at epoch {prunedAtEpoch}</span>}
    </span>
  );
}

/** Trials that ended of the budget, as a bar with "done/n · running · pruned". */
export function SweepProgress({ sweep }: { sweep: SweepSummary }) {
  const done = sweepDone(sweep);
  const { active, pruned } = sweep.counts;
  const label = `${done}/${sweep.nTrials} trials${active ? ` · ${active} running` : ""}${pruned ? ` · ${pruned} pruned` : ""}`;
  return <ProgressBar progress={done / Math.max(1, sweep.nTrials)} label={label} />;
}

export const bestLabel = (s: SweepSummary) =>
  s.bestValue == null ? "—" : `${formatValue(s.bestValue)}${s.bestTrialNumber != null ? ` (trial ${s.bestTrialNumber})` : ""}`;
