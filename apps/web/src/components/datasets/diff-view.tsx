"use client";
import { useQuery } from "@tanstack/react-query";
import { clsx } from "clsx";
import { useId, useState } from "react";
import type { DatasetDiffAnswer, DatasetVersionSummary } from "@wyolo/contracts";
import { Select } from "@/components/ui";
import { api } from "@/lib/api";

const signed = (n: number) => (n > 0 ? `+${n.toLocaleString()}` : n.toLocaleString());

function PathList({ title, paths, count, tone }: { title: string; paths: string[]; count: number; tone: string }) {
  if (!count) return null;
  return (
    <details className="rounded-md border border-zinc-200 dark:border-zinc-800">
      <summary className="cursor-pointer px-3 py-2 text-sm">
        <span className={clsx("font-semibold", tone)}>{count.toLocaleString()}</span> {title}
      </summary>
      <ul className="max-h-64 overflow-auto border-t border-zinc-200 px-3 py-2 font-mono text-xs dark:border-zinc-800">
        {paths.map((p) => (
          <li key={p} className="break-all">
            {p}
          </li>
        ))}
        {paths.length < count && <li className="text-zinc-500">… and {(count - paths.length).toLocaleString()} more</li>}
      </ul>
    </details>
  );
}

/** What changed from another version to this one: files added/removed/changed, class and split counts. */
export function DiffView({ version, versions }: { version: DatasetVersionSummary; versions: DatasetVersionSummary[] }) {
  const others = versions.filter((v) => v.id !== version.id && v.status === "READY");
  const defaultAgainst = version.parentVersion ?? others.find((v) => v.version < version.version)?.version ?? others[0]?.version;
  const [against, setAgainst] = useState<number | undefined>(defaultAgainst);
  const selectId = useId();
  const diff = useQuery({
    queryKey: ["dataset-diff", version.id, against],
    queryFn: () => api<DatasetDiffAnswer>(`/api/v1/dataset-versions/${version.id}/diff?against=${against}`),
    enabled: against !== undefined,
  });
  if (!others.length) return <p className="text-sm text-zinc-500">No other ready version to compare with yet.</p>;
  const d = diff.data;
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end gap-3">
        <div>
          <label htmlFor={selectId} className="block text-xs font-medium text-zinc-600 dark:text-zinc-400">
            Compare v{version.version} with
          </label>
          <Select id={selectId} value={against ?? ""} onChange={(e) => setAgainst(Number(e.target.value))}>
            {others.map((v) => (
              <option key={v.id} value={v.version}>
                v{v.version}
                {v.version === version.parentVersion ? " (its parent)" : ""}
              </option>
            ))}
          </Select>
        </div>
      </div>
      {diff.isPending ? (
        <p className="text-sm text-zinc-500">Comparing…</p>
      ) : diff.isError ? (
        <p className="text-sm text-red-600">Could not compare: {diff.error.message}</p>
      ) : d ? (
        <>
          <p className="text-sm" data-testid="diff-summary">
            From <span className="font-mono">{d.from.label}</span> to <span className="font-mono">{d.to.label}</span>:{" "}
            {d.files.counts.added.toLocaleString()} added, {d.files.counts.removed.toLocaleString()} removed,{" "}
            {d.files.counts.changed.toLocaleString()} changed, {d.files.counts.unchanged.toLocaleString()} unchanged
          </p>
          <div className="space-y-2">
            <PathList title="added" paths={d.files.added} count={d.files.counts.added} tone="text-emerald-700 dark:text-emerald-400" />
            <PathList title="removed" paths={d.files.removed} count={d.files.counts.removed} tone="text-red-700 dark:text-red-400" />
            <PathList title="changed" paths={d.files.changed} count={d.files.counts.changed} tone="text-amber-700 dark:text-amber-400" />
          </div>
          <div className="grid gap-4 lg:grid-cols-2">
            <CountTable
              caption="Per class"
              rows={d.classes.map((c) => ({ key: String(c.id), name: c.name, from: c.from, to: c.to }))}
              fromLabel={`v${d.from.version}`}
              toLabel={`v${d.to.version}`}
            />
            <CountTable
              caption="Images per split"
              rows={d.imagesPerSplit.map((s) => ({ key: s.split, name: s.split, from: s.from, to: s.to }))}
              fromLabel={`v${d.from.version}`}
              toLabel={`v${d.to.version}`}
            />
          </div>
        </>
      ) : null}
    </div>
  );
}

function CountTable({
  caption,
  rows,
  fromLabel,
  toLabel,
}: {
  caption: string;
  rows: { key: string; name: string; from: number; to: number }[];
  fromLabel: string;
  toLabel: string;
}) {
  return (
    <div className="overflow-x-auto rounded-md border border-zinc-200 dark:border-zinc-800">
      <table className="w-full text-sm">
        <caption className="px-3 py-2 text-left text-sm font-semibold">{caption}</caption>
        <thead className="bg-zinc-50 text-xs text-zinc-500 dark:bg-zinc-900">
          <tr>
            <th className="px-3 py-1.5 text-left font-medium">Name</th>
            <th className="px-3 py-1.5 text-right font-medium">{fromLabel}</th>
            <th className="px-3 py-1.5 text-right font-medium">{toLabel}</th>
            <th className="px-3 py-1.5 text-right font-medium">Change</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-100 tabular-nums dark:divide-zinc-800">
          {rows.map((r) => (
            <tr key={r.key}>
              <td className="px-3 py-1.5">{r.name}</td>
              <td className="px-3 py-1.5 text-right">{r.from.toLocaleString()}</td>
              <td className="px-3 py-1.5 text-right">{r.to.toLocaleString()}</td>
              <td
                className={clsx(
                  "px-3 py-1.5 text-right",
                  r.to > r.from
                    ? "text-emerald-700 dark:text-emerald-400"
                    : r.to < r.from
                      ? "text-red-700 dark:text-red-400"
                      : "text-zinc-400",
                )}
              >
                {signed(r.to - r.from)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
