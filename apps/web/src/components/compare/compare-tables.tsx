"use client";
import { clsx } from "clsx";
import { useState } from "react";
import { lowerIsBetter, metricGroup, type ClassMetrics, type CompareAnswer, type CompareJob } from "@wyolo/contracts";
import { Select } from "@/components/ui";
import { formatValue } from "@/components/charts/chart-math";
import { formatParam } from "@/lib/sweeps";
import { bestIndex, metricName } from "./compare-url";

export type Column = { job: CompareJob; color: string };

const th = "px-3 py-2 text-left text-xs font-medium uppercase text-zinc-500";
const td = "px-3 py-2 text-left align-top tabular-nums";
// The first column stays in view while the job columns scroll; its background must be opaque.
const stickyBase = "sticky left-0 z-10";
const sticky = `${stickyBase} bg-white dark:bg-zinc-900`;
const differsBg = "bg-amber-50 dark:bg-amber-950";

/** The jobs as column heads: a colour swatch (as in the charts) and the name. */
export function JobHeads({ columns, span = 1 }: { columns: Column[]; span?: number }) {
  return columns.map(({ job, color }) => (
    <th key={job.id} scope="col" colSpan={span} className="px-3 py-2 text-left text-xs font-medium text-zinc-500">
      <span className="inline-flex max-w-48 items-center gap-1.5">
        <span aria-hidden className="inline-block size-2.5 shrink-0 rounded-full" style={{ background: color }} />
        <span className="truncate text-zinc-800 dark:text-zinc-200" title={job.name}>
          {job.name}
        </span>
      </span>
    </th>
  ));
}

function Table({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="overflow-x-auto">
      <table aria-label={label} className="w-full text-sm">
        {children}
      </table>
    </div>
  );
}

/** Training arguments side by side: only those that differ unless "show all"; differing rows highlighted. */
export function ParamsTable({ columns, data }: { columns: Column[]; data: Pick<CompareAnswer, "params" | "differing"> }) {
  const [showAll, setShowAll] = useState(false);
  const all = [...new Set(columns.flatMap((c) => Object.keys(data.params[c.job.id] ?? {})))].sort();
  const keys = showAll ? all : data.differing;
  return (
    <div>
      <div className="flex flex-wrap items-center justify-between gap-2 px-4 py-3">
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          {data.differing.length === 0
            ? "Every argument is the same."
            : `${data.differing.length} of ${all.length} arguments differ${showAll ? " (highlighted)" : ""}.`}
        </p>
        <label className="flex items-center gap-2 text-sm text-zinc-600 dark:text-zinc-400">
          <input type="checkbox" checked={showAll} onChange={(e) => setShowAll(e.target.checked)} />
          Show all arguments
        </label>
      </div>
      {keys.length > 0 && (
        <Table label="Parameters">
          <thead className="border-y border-zinc-200 dark:border-zinc-800">
            <tr>
              <th scope="col" className={clsx(th, sticky)}>
                Argument
              </th>
              <JobHeads columns={columns} />
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => {
              const differs = data.differing.includes(key);
              return (
                <tr
                  key={key}
                  data-param={key}
                  data-differs={differs}
                  className={clsx("border-b border-zinc-100 last:border-0 dark:border-zinc-800", differs && differsBg)}
                >
                  <th scope="row" className={clsx(td, differs ? `${stickyBase} ${differsBg}` : sticky, "font-mono text-xs font-normal")}>
                    {key}
                  </th>
                  {columns.map(({ job }) => {
                    const v = data.params[job.id]?.[key];
                    return (
                      <td key={job.id} className={clsx(td, "wrap-anywhere font-mono text-xs", differs && "font-semibold")}>
                        {v === undefined || v === null ? <span className="text-zinc-400">—</span> : formatParam(v)}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </Table>
      )}
    </div>
  );
}

const GROUP_ORDER = ["metrics", "val", "train", "other"] as const;

/** Best-epoch and last-epoch values of every metric and loss, per job side by side; the best of each row marked. */
export function MetricsTable({ columns, data }: { columns: Column[]; data: Pick<CompareAnswer, "best" | "final"> }) {
  const keys = [...new Set(columns.flatMap((c) => [...Object.keys(data.best[c.job.id] ?? {}), ...Object.keys(data.final[c.job.id] ?? {})]))]
    .filter((k) => metricGroup(k) !== "lr")
    .sort((a, b) => GROUP_ORDER.indexOf(metricGroup(a) as never) - GROUP_ORDER.indexOf(metricGroup(b) as never) || a.localeCompare(b));
  if (!keys.length) return <p className="px-4 py-3 text-sm text-zinc-500">No epochs recorded yet.</p>;
  return (
    <Table label="Final and best metrics">
      <thead className="border-b border-zinc-200 dark:border-zinc-800">
        <tr>
          <th scope="col" rowSpan={2} className={clsx(th, sticky)}>
            Metric
          </th>
          <JobHeads columns={columns} span={2} />
        </tr>
        <tr>
          {columns.map(({ job }) => [
            <th key={`${job.id}-b`} scope="col" className={clsx(th, "pt-0")} title={job.best ? `epoch ${job.best.epoch}` : undefined}>
              Best{job.best ? ` (ep ${job.best.epoch})` : ""}
            </th>,
            <th key={`${job.id}-f`} scope="col" className={clsx(th, "pt-0")}>
              Final{job.epochs ? ` (ep ${job.epochs})` : ""}
            </th>,
          ])}
        </tr>
      </thead>
      <tbody>
        {keys.map((key) => {
          const lower = lowerIsBetter(key);
          const bestValues = columns.map((c) => data.best[c.job.id]?.[key]);
          const winner = bestIndex(bestValues, lower);
          return (
            <tr key={key} data-metric={key} className="border-b border-zinc-100 last:border-0 dark:border-zinc-800">
              <th scope="row" className={clsx(td, sticky, "whitespace-nowrap text-xs font-normal")}>
                {metricName(key)}
              </th>
              {columns.map(({ job }, i) => [
                <td
                  key={`${job.id}-b`}
                  className={clsx(td, i === winner && "font-semibold text-emerald-700 dark:text-emerald-400")}
                  data-best-of-row={i === winner || undefined}
                >
                  {formatValue(bestValues[i])}
                </td>,
                <td key={`${job.id}-f`} className={clsx(td, "text-zinc-500")}>
                  {formatValue(data.final[job.id]?.[key])}
                </td>,
              ])}
            </tr>
          );
        })}
      </tbody>
    </Table>
  );
}

type Kind = "box" | "mask" | "pose" | "top1";
type Score = "map50_95" | "map50" | "p" | "r";
const SCORES: Record<Score, string> = { map50_95: "mAP50-95", map50: "mAP50", p: "Precision", r: "Recall" };

function classValue(c: ClassMetrics | undefined, kind: Kind, score: Score): number | null | undefined {
  if (!c) return undefined;
  if (kind === "top1") return c.top1;
  return c[kind]?.[score];
}

/** The final validation's per-class scores, per job side by side (classes matched by name). */
export function ClassTable({ columns, data }: { columns: Column[]; data: Pick<CompareAnswer, "classMetrics"> }) {
  const lists = columns.map((c) => data.classMetrics[c.job.id] ?? []);
  const all = lists.flat();
  const kinds = (["mask", "pose", "box", "top1"] as const).filter((k) => all.some((c) => (k === "top1" ? c.top1 != null : c[k])));
  const [kindChoice, setKind] = useState<Kind | null>(null);
  const [score, setScore] = useState<Score>("map50_95");
  const kind = kindChoice && kinds.includes(kindChoice as never) ? kindChoice : kinds[0];
  if (!all.length || !kind) return <p className="px-4 py-3 text-sm text-zinc-500">None of these jobs reported per-class metrics.</p>;
  const names = [...new Map(all.map((c) => [c.name, c.id])).entries()].sort((a, b) => a[1] - b[1]).map(([name]) => name);
  return (
    <div>
      <div className="flex flex-wrap gap-3 px-4 py-3">
        {kinds.length > 1 && (
          <label className="text-xs text-zinc-500">
            Scores
            <Select aria-label="Per-class scores of" value={kind} onChange={(e) => setKind(e.target.value as Kind)} className="mt-1 w-28">
              {kinds.map((k) => (
                <option key={k} value={k}>
                  {k === "top1" ? "top-1" : k}
                </option>
              ))}
            </Select>
          </label>
        )}
        {kind !== "top1" && (
          <label className="text-xs text-zinc-500">
            Metric
            <Select aria-label="Per-class metric" value={score} onChange={(e) => setScore(e.target.value as Score)} className="mt-1 w-32">
              {Object.entries(SCORES).map(([k, label]) => (
                <option key={k} value={k}>
                  {label}
                </option>
              ))}
            </Select>
          </label>
        )}
      </div>
      <Table label="Per-class metrics">
        <thead className="border-y border-zinc-200 dark:border-zinc-800">
          <tr>
            <th scope="col" className={clsx(th, sticky)}>
              Class
            </th>
            <JobHeads columns={columns} />
          </tr>
        </thead>
        <tbody>
          {names.map((name) => {
            const values = lists.map((list) =>
              classValue(
                list.find((c) => c.name === name),
                kind,
                score,
              ),
            );
            const winner = bestIndex(values, false);
            return (
              <tr key={name} className="border-b border-zinc-100 last:border-0 dark:border-zinc-800">
                <th scope="row" className={clsx(td, sticky, "text-xs font-normal")}>
                  {name}
                </th>
                {values.map((v, i) => (
                  <td key={columns[i]!.job.id} className={clsx(td, i === winner && "font-semibold text-emerald-700 dark:text-emerald-400")}>
                    {formatValue(v)}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </Table>
    </div>
  );
}
