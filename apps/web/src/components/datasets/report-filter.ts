import type { DatasetIssue, DatasetReport } from "@wyolo/contracts";

export type ReportFilter = { severity: "all" | "error" | "warning"; code: string; text: string };

/** The report's issues that pass the filter: severity, code, and a text found in the file or message (case-insensitive). */
export function filterIssues(issues: DatasetIssue[], f: ReportFilter): DatasetIssue[] {
  const text = f.text.trim().toLowerCase();
  return issues.filter(
    (i) =>
      (f.severity === "all" || i.severity === f.severity) &&
      (!f.code || i.code === f.code) &&
      (!text || (i.file ?? "").toLowerCase().includes(text) || i.message.toLowerCase().includes(text)),
  );
}

export type CodeCount = { code: string; severity: "error" | "warning"; count: number; shown: number };

/**
 * Counts by code, errors first then by count: `count` is every occurrence (the report's counts),
 * `shown` how many the report lists (capped per code).
 */
export function codeCounts(report: DatasetReport): CodeCount[] {
  const listed = new Map<string, { severity: "error" | "warning"; shown: number }>();
  for (const i of report.issues) {
    const c = listed.get(i.code) ?? { severity: i.severity, shown: 0 };
    c.shown++;
    if (i.severity === "error") c.severity = "error";
    listed.set(i.code, c);
  }
  const codes = new Set([...Object.keys(report.counts), ...listed.keys()]);
  return [...codes]
    .map((code) => ({
      code,
      severity: listed.get(code)?.severity ?? "error",
      count: report.counts[code] ?? listed.get(code)?.shown ?? 0,
      shown: listed.get(code)?.shown ?? 0,
    }))
    .filter((c) => c.count > 0)
    .sort((a, b) => (a.severity === b.severity ? b.count - a.count || a.code.localeCompare(b.code) : a.severity === "error" ? -1 : 1));
}

/** `file:line`, or the file, or "—" for dataset-wide findings. */
export const issueWhere = (i: DatasetIssue) => (i.file ? (i.line ? `${i.file}:${i.line}` : i.file) : "—");
