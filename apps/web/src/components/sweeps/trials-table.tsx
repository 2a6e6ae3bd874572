"use client";
import { clsx } from "clsx";
import Link from "next/link";
import { useState } from "react";
import type { SweepDetail, SweepTrialRow } from "@wyolo/contracts";
import { Card, EmptyState } from "@/components/ui";
import { formatDuration, jobDuration } from "@/lib/format";
import { formatParam, formatValue, lastIntermediate, trialLabel } from "@/lib/sweeps";
import { TrialStateBadge } from "./sweep-status";

type SortKey = "number" | "state" | "value" | "epochs" | "duration";
const STATE_ORDER = { RUNNING: 0, QUEUED: 1, COMPLETE: 2, PRUNED: 3, FAIL: 4 } as const;

function sortValue(t: SweepTrialRow, key: SortKey): number {
  switch (key) {
    case "number":
      return t.number;
    case "state":
      return STATE_ORDER[trialLabel(t)];
    case "value":
      return t.value ?? lastIntermediate(t)?.[1] ?? Number.NEGATIVE_INFINITY;
    case "epochs":
      return t.intermediate.length;
    case "duration":
      return jobDuration(t) ?? -1;
  }
}

/** Every trial of the sweep: state (pruned marked), sampled arguments, objective, epochs, duration, its job. Sortable; the best row is highlighted. */
export function TrialsTable({ sweep, base }: { sweep: SweepDetail; base: string }) {
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: "number", desc: false });
  const rows = [...sweep.trials].sort((a, b) => {
    const d = sortValue(a, sort.key) - sortValue(b, sort.key) || a.number - b.number;
    return sort.desc ? -d : d;
  });
  const header = (key: SortKey, label: string, className?: string) => (
    <th
      scope="col"
      className={clsx("px-3 py-3 font-medium", className)}
      aria-sort={sort.key === key ? (sort.desc ? "descending" : "ascending") : undefined}
    >
      <button
        type="button"
        className="inline-flex items-center gap-1 uppercase hover:text-zinc-800 dark:hover:text-zinc-200"
        onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key === "value" && sweep.direction === "maximize" }))}
      >
        {label}
        <span aria-hidden className="w-2">
          {sort.key === key ? (sort.desc ? "↓" : "↑") : ""}
        </span>
      </button>
    </th>
  );
  return (
    <Card className="p-0">
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-zinc-200 px-4 py-3 dark:border-zinc-800">
        <h2 className="font-semibold">Trials</h2>
        <span className="text-xs text-zinc-500">
          {sweep.trials.length} of {sweep.nTrials} · objective: {sweep.direction} {sweep.objective}
        </span>
      </div>
      {rows.length === 0 ? (
        <div className="p-4">
          <EmptyState title="No trials yet">
            Optuna asks for the first {sweep.parallel} trials as soon as a worker takes the sweep.
          </EmptyState>
        </div>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm" aria-label="Trials">
            <thead className="border-b border-zinc-200 text-xs uppercase text-zinc-500 dark:border-zinc-800">
              <tr>
                {header("number", "#")}
                {header("state", "State")}
                <th scope="col" className="px-3 py-3 font-medium">
                  Params
                </th>
                {header("value", "Value", "text-right")}
                {header("epochs", "Epochs · last")}
                {header("duration", "Duration")}
                <th scope="col" className="px-3 py-3 font-medium">
                  Job
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => {
                const label = trialLabel(t);
                const best = t.number === sweep.bestTrialNumber;
                const last = lastIntermediate(t);
                return (
                  <tr
                    key={t.number}
                    data-trial={t.number}
                    data-state={label}
                    aria-current={best ? "true" : undefined}
                    className={clsx(
                      "border-b border-zinc-100 last:border-0 dark:border-zinc-800",
                      best && "bg-amber-50 dark:bg-amber-900/20",
                      label === "PRUNED" && "text-zinc-500",
                    )}
                  >
                    <td className="px-3 py-2 align-top font-mono tabular-nums">
                      {t.number}
                      {best && (
                        <span className="ml-1 rounded bg-amber-200 px-1 font-sans text-[10px] font-semibold text-amber-900 dark:bg-amber-700 dark:text-amber-50">
                          best
                        </span>
                      )}
                    </td>
                    <td className="px-3 py-2 align-top">
                      <TrialStateBadge label={label} prunedAtEpoch={t.prunedAtEpoch} />
                    </td>
                    <td className="max-w-md px-3 py-2 align-top">
                      <span className="flex flex-wrap gap-x-2 gap-y-0.5 font-mono text-xs">
                        {Object.entries(t.params).map(([k, v]) => (
                          <span key={k} className="whitespace-nowrap">
                            <span className="text-zinc-500">{k}=</span>
                            {formatParam(v)}
                          </span>
                        ))}
                      </span>
                    </td>
                    <td className={clsx("px-3 py-2 text-right align-top tabular-nums", best && "font-semibold")}>{formatValue(t.value)}</td>
                    <td className="whitespace-nowrap px-3 py-2 align-top tabular-nums">
                      {t.intermediate.length}
                      {last && <span className="text-xs text-zinc-500"> · {formatValue(last[1])}</span>}
                    </td>
                    <td className="whitespace-nowrap px-3 py-2 align-top tabular-nums">{formatDuration(jobDuration(t))}</td>
                    <td className="px-3 py-2 align-top">
                      <Link
                        href={`${base}/jobs/${t.jobId}`}
                        className="whitespace-nowrap text-indigo-700 hover:underline dark:text-indigo-300"
                        aria-label={`Job of trial ${t.number}`}
                      >
                        {t.jobStatus.toLowerCase()} ↗
                      </Link>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
