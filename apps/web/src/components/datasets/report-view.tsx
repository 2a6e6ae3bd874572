"use client";
import { clsx } from "clsx";
import { useId, useMemo, useState } from "react";
import { REPORT_ISSUES_PER_CODE, type DatasetReport } from "@wyolo/contracts";
import { Input, Select } from "@/components/ui";
import { codeCounts, filterIssues, issueWhere, type ReportFilter } from "./report-filter";

const severityStyle = {
  error: "bg-red-100 text-red-800 dark:bg-red-900/40 dark:text-red-300",
  warning: "bg-amber-100 text-amber-800 dark:bg-amber-900/40 dark:text-amber-300",
};

const SHOWN_ROWS = 500;

/** A version's validation report: a fatal archive problem, counts by code (click to filter), and the issues by file and line. */
export function ReportView({ report }: { report: DatasetReport }) {
  const [filter, setFilter] = useState<ReportFilter>({ severity: "all", code: "", text: "" });
  const ids = { severity: useId(), text: useId() };
  const counts = useMemo(() => codeCounts(report), [report]);
  const issues = useMemo(() => filterIssues(report.issues, filter), [report, filter]);
  const errors = counts.filter((c) => c.severity === "error").reduce((n, c) => n + c.count, 0);
  const warnings = counts.filter((c) => c.severity === "warning").reduce((n, c) => n + c.count, 0);
  const capped = counts.some((c) => c.count > c.shown);
  return (
    <div className="space-y-4">
      {report.fatal && (
        <div
          role="alert"
          className="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950/40 dark:text-red-300"
        >
          <p className="font-semibold">The archive could not be read</p>
          <p className="mt-1 break-words">{report.fatal}</p>
        </div>
      )}
      <p className="text-sm" data-testid="report-summary">
        {report.ok ? (
          <span className="font-medium text-emerald-700 dark:text-emerald-400">Valid</span>
        ) : (
          <span className="font-medium text-red-700 dark:text-red-400">Not trainable</span>
        )}
        {report.task && <> · {report.task}</>} · {errors.toLocaleString()} error{errors === 1 ? "" : "s"}, {warnings.toLocaleString()}{" "}
        warning
        {warnings === 1 ? "" : "s"}
      </p>
      {counts.length > 0 && (
        <ul className="flex flex-wrap gap-2" aria-label="Findings by kind">
          {counts.map((c) => (
            <li key={c.code}>
              <button
                type="button"
                aria-pressed={filter.code === c.code}
                onClick={() => setFilter({ ...filter, code: filter.code === c.code ? "" : c.code })}
                className={clsx(
                  "rounded px-2 py-1 font-mono text-xs",
                  severityStyle[c.severity],
                  filter.code === c.code && "ring-2 ring-indigo-500",
                )}
              >
                {c.code} × {c.count.toLocaleString()}
              </button>
            </li>
          ))}
        </ul>
      )}
      {report.issues.length > 0 && (
        <>
          <div className="flex flex-wrap items-end gap-3">
            <div>
              <label htmlFor={ids.severity} className="block text-xs font-medium text-zinc-600 dark:text-zinc-400">
                Severity
              </label>
              <Select
                id={ids.severity}
                value={filter.severity}
                onChange={(e) => setFilter({ ...filter, severity: e.target.value as ReportFilter["severity"] })}
              >
                <option value="all">Errors and warnings</option>
                <option value="error">Errors</option>
                <option value="warning">Warnings</option>
              </Select>
            </div>
            <div className="min-w-0 flex-1 sm:max-w-xs">
              <label htmlFor={ids.text} className="block text-xs font-medium text-zinc-600 dark:text-zinc-400">
                File or message contains
              </label>
              <Input
                id={ids.text}
                value={filter.text}
                onChange={(e) => setFilter({ ...filter, text: e.target.value })}
                placeholder="labels/train/"
              />
            </div>
          </div>
          <div className="overflow-x-auto rounded-md border border-zinc-200 dark:border-zinc-800">
            <table className="w-full min-w-[36rem] text-left text-sm" aria-label="Findings">
              <thead className="bg-zinc-50 text-xs text-zinc-500 dark:bg-zinc-900">
                <tr>
                  <th className="px-3 py-2 font-medium">Severity</th>
                  <th className="px-3 py-2 font-medium">Kind</th>
                  <th className="px-3 py-2 font-medium">File:line</th>
                  <th className="px-3 py-2 font-medium">Message</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
                {issues.slice(0, SHOWN_ROWS).map((i, n) => (
                  <tr key={n}>
                    <td className="px-3 py-1.5">
                      <span className={clsx("rounded px-1.5 py-0.5 text-xs font-semibold", severityStyle[i.severity])}>{i.severity}</span>
                    </td>
                    <td className="px-3 py-1.5 font-mono text-xs">{i.code}</td>
                    <td className="px-3 py-1.5 font-mono text-xs break-all">{issueWhere(i)}</td>
                    <td className="min-w-48 px-3 py-1.5">{i.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="text-xs text-zinc-500">
            {issues.length > SHOWN_ROWS
              ? `The first ${SHOWN_ROWS} of ${issues.length.toLocaleString()} listed`
              : `${issues.length.toLocaleString()} listed`}
            {capped && ` · the report keeps at most ${REPORT_ISSUES_PER_CODE} of each kind; the counts above have them all`}
          </p>
        </>
      )}
    </div>
  );
}
