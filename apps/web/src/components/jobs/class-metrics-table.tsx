"use client";
import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  useReactTable,
  type SortingState,
} from "@tanstack/react-table";
import { useMemo, useState } from "react";
import type { ClassMetrics } from "@wyolo/contracts";
import { Card } from "@/components/ui";

const col = createColumnHelper<ClassMetrics>();
const pct = (v: number | null | undefined) => (v == null ? "—" : v.toFixed(3));
const GROUPS = [
  ["box", "Box"],
  ["mask", "Mask"],
  ["pose", "Pose"],
] as const;
const SCORES = [
  ["p", "P"],
  ["r", "R"],
  ["map50", "mAP50"],
  ["map50_95", "mAP50-95"],
] as const;

/** The final validation per class (the trainer's `finished.classes`): sortable by any column, lowest mAP first by default. */
export function ClassMetricsTable({ classes }: { classes: ClassMetrics[] }) {
  const columns = useMemo(() => {
    const present = GROUPS.filter(([g]) => classes.some((c) => c[g]));
    const multi = present.length > 1;
    return [
      col.accessor("name", { header: "Class", cell: (c) => <span className="font-medium whitespace-nowrap">{c.getValue()}</span> }),
      col.accessor((c) => c.images ?? undefined, { id: "images", header: "Images", sortUndefined: "last" }),
      col.accessor((c) => c.instances ?? undefined, { id: "instances", header: "Instances", sortUndefined: "last" }),
      ...present.flatMap(([g, label]) =>
        SCORES.map(([s, name]) =>
          col.accessor((c) => c[g]?.[s] ?? undefined, {
            id: `${g}.${s}`,
            // A class without validation instances has no scores: last whichever way the column is sorted.
            sortUndefined: "last",
            header: multi ? `${label} ${name}` : name,
            cell: (c) => pct(c.getValue()),
          }),
        ),
      ),
      ...(classes.some((c) => c.top1 != null)
        ? [col.accessor((c) => c.top1 ?? undefined, { id: "top1", header: "Top-1", sortUndefined: "last", cell: (c) => pct(c.getValue()) })]
        : []),
    ];
  }, [classes]);
  const defaultSort = columns.some((c) => c.id === "box.map50_95")
    ? "box.map50_95"
    : columns.some((c) => c.id === "top1")
      ? "top1"
      : "name";
  const [sorting, setSorting] = useState<SortingState>([{ id: defaultSort, desc: false }]);
  const table = useReactTable({
    data: classes,
    columns,
    state: { sorting },
    onSortingChange: setSorting,
    enableSortingRemoval: false,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });

  return (
    <Card className="p-0">
      <div className="flex flex-wrap items-baseline justify-between gap-2 px-4 pt-4 pb-2">
        <h2 className="font-semibold">Per-class metrics</h2>
        <span className="text-xs text-zinc-500">final validation · {classes.length} classes · click a heading to sort</span>
      </div>
      <div className="max-h-96 overflow-auto">
        <table className="w-full text-sm" aria-label="Per-class metrics">
          <thead className="sticky top-0 bg-zinc-50 text-left text-xs text-zinc-500 dark:bg-zinc-950">
            {table.getHeaderGroups().map((hg) => (
              <tr key={hg.id}>
                {hg.headers.map((h) => {
                  const sorted = h.column.getIsSorted();
                  return (
                    <th
                      key={h.id}
                      aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : "none"}
                      className="px-3 py-2 font-medium whitespace-nowrap first:pl-4"
                    >
                      <button
                        type="button"
                        onClick={h.column.getToggleSortingHandler()}
                        className="inline-flex items-center gap-1 hover:text-zinc-900 dark:hover:text-zinc-100"
                      >
                        {flexRender(h.column.columnDef.header, h.getContext())}
                        <span aria-hidden className="w-2">
                          {sorted === "asc" ? "▲" : sorted === "desc" ? "▼" : ""}
                        </span>
                      </button>
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
            {table.getRowModel().rows.map((row) => (
              <tr key={row.id}>
                {row.getVisibleCells().map((cell) => (
                  <td key={cell.id} className="px-3 py-1.5 tabular-nums first:pl-4">
                    {flexRender(cell.column.columnDef.cell, cell.getContext()) ?? "—"}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}
