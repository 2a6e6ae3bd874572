"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  useReactTable,
  type SortingState,
} from "@tanstack/react-table";
import { clsx } from "clsx";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useMemo, useState } from "react";
import { COMPARE_MAX_JOBS, COMPARE_MIN_JOBS, type LeaderboardAnswer, type LeaderboardRow } from "@wyolo/contracts";
import { Card, EmptyState, Select } from "@/components/ui";
import { formatValue } from "@/components/charts/chart-math";
import { TrialBadge } from "@/components/jobs/jobs-panel";
import { api } from "@/lib/api";
import { formatDuration } from "@/lib/format";
import { formatParam } from "@/lib/sweeps";
import { compareHref, leaderboardHref, metricName } from "./compare-url";

const col = createColumnHelper<LeaderboardRow>();
const dash = (v: number | string | null) => (v === null ? "—" : typeof v === "number" ? formatParam(v) : v);

function columns(base: string, metric: string) {
  return [
    col.accessor("rank", { header: "#", cell: ({ getValue }) => <span className="font-semibold tabular-nums">{getValue()}</span> }),
    col.accessor("name", {
      header: "Job",
      cell: ({ row }) => (
        <div className="min-w-36">
          <Link href={`${base}/jobs/${row.original.id}`} className="font-medium text-indigo-700 hover:underline dark:text-indigo-300">
            {row.original.name}
          </Link>
          <span className="flex flex-wrap items-center gap-2 text-xs text-zinc-500">
            {row.original.model} · {row.original.task}
            <TrialBadge
              job={{
                sweepId: row.original.sweep?.id ?? null,
                trialNumber: row.original.sweep?.trialNumber ?? null,
                sweep: row.original.sweep,
              }}
              base={base}
            />
          </span>
        </div>
      ),
    }),
    col.accessor("value", {
      header: metricName(metric),
      sortUndefined: "last",
      cell: ({ row }) => (
        <span className="font-semibold tabular-nums" data-testid="leaderboard-value">
          {formatValue(row.original.value)}
          {row.original.epoch !== null && <span className="ml-1 text-xs font-normal text-zinc-500">@ {row.original.epoch}</span>}
        </span>
      ),
    }),
    col.accessor((r) => r.args.epochs, { id: "epochs", header: "Epochs", cell: ({ getValue }) => dash(getValue()) }),
    col.accessor((r) => r.args.imgsz, { id: "imgsz", header: "imgsz", cell: ({ getValue }) => dash(getValue()) }),
    col.accessor((r) => r.args.batch, { id: "batch", header: "Batch", cell: ({ getValue }) => dash(getValue()) }),
    col.accessor((r) => r.args.lr0, { id: "lr0", header: "lr0", cell: ({ getValue }) => dash(getValue()) }),
    col.accessor((r) => r.args.optimizer, { id: "optimizer", header: "Optimizer", cell: ({ getValue }) => dash(getValue()) }),
    col.accessor("durationSeconds", { header: "Duration", cell: ({ getValue }) => formatDuration(getValue()) }),
    col.accessor("gpuHours", {
      header: "GPU-hours",
      cell: ({ row }) => (row.original.gpuHours === null ? "—" : row.original.gpus === 0 ? "0 (CPU)" : row.original.gpuHours.toFixed(2)),
    }),
  ];
}

/** A project's finished jobs ranked by one metric (in the URL: `?metric=`); tick rows to compare them. */
export function LeaderboardView({ projectId, base, teamSlug }: { projectId: string; base: string; teamSlug: string }) {
  const router = useRouter();
  const metric = useSearchParams().get("metric");
  const [sorting, setSorting] = useState<SortingState>([]);
  const [selected, setSelected] = useState<Record<string, boolean>>({});
  const board = useQuery({
    queryKey: ["leaderboard", projectId, metric],
    placeholderData: keepPreviousData,
    queryFn: () =>
      api<LeaderboardAnswer>(`/api/v1/projects/${projectId}/leaderboard?limit=200${metric ? `&metric=${encodeURIComponent(metric)}` : ""}`),
  });
  const data = board.data;
  const rows = useMemo(() => data?.rows ?? [], [data]);
  const tableColumns = useMemo(() => columns(base, data?.metric ?? metric ?? ""), [base, data?.metric, metric]);
  const table = useReactTable({
    data: rows,
    columns: tableColumns,
    state: { sorting, rowSelection: selected },
    onSortingChange: setSorting,
    onRowSelectionChange: setSelected,
    enableRowSelection: true,
    getRowId: (r) => r.id,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  const picked = rows.filter((r) => selected[r.id]).map((r) => r.id);

  return (
    <Card className="p-0">
      <div className="flex flex-wrap items-end gap-3 border-b border-zinc-200 p-4 dark:border-zinc-800">
        <label className="text-xs text-zinc-500">
          Rank by
          <Select
            aria-label="Rank by metric"
            value={data?.metric ?? metric ?? ""}
            onChange={(e) => (setSorting([]), router.replace(leaderboardHref(base, e.target.value), { scroll: false }))}
            className="mt-1 w-60"
            disabled={!data?.metrics.length}
          >
            {(data?.metrics.length ? data.metrics : [data?.metric ?? metric ?? ""]).map((m) => (
              <option key={m} value={m}>
                {metricName(m)}
              </option>
            ))}
          </Select>
        </label>
        {data && (
          <p className="self-center text-sm text-zinc-500">
            {data.order === "asc" ? "Lower is better" : "Higher is better"} · {data.total} finished job{data.total === 1 ? "" : "s"}
            {data.total > rows.length ? ` (top ${rows.length})` : ""}
          </p>
        )}
        <span className="ml-auto self-center">
          {picked.length >= COMPARE_MIN_JOBS ? (
            <Link
              href={compareHref(teamSlug, picked)}
              className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500"
            >
              Compare ({picked.length})
            </Link>
          ) : (
            <span className="text-xs text-zinc-500">
              Tick {COMPARE_MIN_JOBS}–{COMPARE_MAX_JOBS} jobs to compare them
            </span>
          )}
        </span>
      </div>
      {board.isPending ? (
        <p className="p-4 text-sm text-zinc-500">Loading the leaderboard…</p>
      ) : board.isError ? (
        <p className="p-4 text-sm text-red-600">Could not load the leaderboard: {board.error.message}</p>
      ) : rows.length === 0 ? (
        <div className="p-4">
          <EmptyState title="No finished jobs yet">Jobs that succeed in this project are ranked here.</EmptyState>
        </div>
      ) : (
        <div className="overflow-x-auto">
          <table className={clsx("w-full text-left text-sm", board.isFetching && "opacity-70")} aria-label="Leaderboard">
            <thead className="border-b border-zinc-200 text-xs uppercase text-zinc-500 dark:border-zinc-800">
              {table.getHeaderGroups().map((hg) => (
                <tr key={hg.id}>
                  <th scope="col" className="px-3 py-3">
                    <span className="sr-only">Select</span>
                  </th>
                  {hg.headers.map((h) => {
                    const sorted = h.column.getIsSorted();
                    return (
                      <th
                        key={h.id}
                        scope="col"
                        className="whitespace-nowrap px-3 py-3 font-medium"
                        aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined}
                      >
                        <button type="button" onClick={h.column.getToggleSortingHandler()} className="uppercase hover:underline">
                          {flexRender(h.column.columnDef.header, h.getContext())}
                          {sorted === "asc" ? " ↑" : sorted === "desc" ? " ↓" : ""}
                        </button>
                      </th>
                    );
                  })}
                </tr>
              ))}
            </thead>
            <tbody>
              {table.getRowModel().rows.map((row) => (
                <tr
                  key={row.id}
                  data-job-id={row.id}
                  className={clsx(
                    "border-b border-zinc-100 last:border-0 dark:border-zinc-800",
                    row.getIsSelected() && "bg-indigo-50 dark:bg-indigo-950/30",
                  )}
                >
                  <td className="px-3 py-3 align-top">
                    <input
                      type="checkbox"
                      checked={row.getIsSelected()}
                      disabled={!row.getIsSelected() && picked.length >= COMPARE_MAX_JOBS}
                      onChange={row.getToggleSelectedHandler()}
                      aria-label={`Select ${row.original.name}`}
                    />
                  </td>
                  {row.getVisibleCells().map((cell) => (
                    <td key={cell.id} className="whitespace-nowrap px-3 py-3 align-top tabular-nums">
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
