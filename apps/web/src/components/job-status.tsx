import { clsx } from "clsx";
import type { JobStatus } from "@wyolo/contracts";

const styles: Record<JobStatus, string> = {
  QUEUED: "bg-zinc-100 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300",
  STARTING: "bg-sky-100 text-sky-800 dark:bg-sky-900/40 dark:text-sky-300",
  RUNNING: "bg-indigo-100 text-indigo-800 dark:bg-indigo-900/40 dark:text-indigo-300",
  SUCCEEDED: "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/40 dark:text-emerald-300",
  FAILED: "bg-red-100 text-red-800 dark:bg-red-900/40 dark:text-red-300",
  CANCELLED: "bg-amber-100 text-amber-800 dark:bg-amber-900/40 dark:text-amber-300",
};

export function JobStatusBadge({ status, cancelling }: { status: JobStatus; cancelling?: boolean }) {
  return (
    <span
      data-testid="job-status"
      className={clsx("inline-flex items-center gap-1 rounded px-2 py-0.5 text-xs font-semibold", styles[status])}
    >
      {(status === "RUNNING" || status === "STARTING") && <span className="size-1.5 animate-pulse rounded-full bg-current" aria-hidden />}
      {status}
      {cancelling && status !== "CANCELLED" && <span className="font-normal">· cancelling</span>}
    </span>
  );
}

export function ProgressBar({ progress, label }: { progress: number; label: string }) {
  const pct = Math.round(Math.min(1, Math.max(0, progress)) * 100);
  return (
    <div className="min-w-32">
      <div
        className="h-1.5 w-full overflow-hidden rounded bg-zinc-200 dark:bg-zinc-800"
        role="progressbar"
        aria-valuenow={pct}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-label={label}
      >
        <div className="h-full rounded bg-indigo-500 transition-[width] duration-500" style={{ width: `${pct}%` }} />
      </div>
      <p data-testid="progress-label" className="mt-1 text-xs text-zinc-500">
        {label}
      </p>
    </div>
  );
}
