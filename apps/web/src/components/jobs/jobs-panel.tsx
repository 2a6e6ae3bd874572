"use client";
import { useInfiniteQuery, useQuery, useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable, type RowSelectionState } from "@tanstack/react-table";
import { clsx } from "clsx";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useMemo, useState } from "react";
import { COMPARE_MAX_JOBS, COMPARE_MIN_JOBS, JOB_STATUSES, TERMINAL_STATUSES, type JobListPage, type JobSummary } from "@wyolo/contracts";
import { Button, Card, EmptyState, Select } from "@/components/ui";
import { JobStatusBadge, ProgressBar } from "@/components/job-status";
import { api } from "@/lib/api";
import { formatDuration, formatMetric, jobDuration, metricLabel, timeAgo } from "@/lib/format";
import { useLive } from "@/lib/live";
import { SubmitJobForm } from "./submit-job-form";
import { cloneSource } from "./clone-source";
import { progressLabel } from "./progress-label";
import { compareHref } from "@/components/compare/compare-url";

type Member = { userId: string; name: string };
const SORTS = {
  created_desc: "Newest first",
  created_asc: "Oldest first",
  name_asc: "Name A–Z",
  name_desc: "Name Z–A",
  status: "Status",
} as const;

const col = createColumnHelper<JobSummary>();

/** "tune lr #3", linking to the sweep a trial belongs to. */
export function TrialBadge({ job, base }: { job: Pick<JobSummary, "sweepId" | "trialNumber" | "sweep">; base: string }) {
  if (!job.sweepId) return null;
  return (
    <Link
      href={`${base}/sweeps/${job.sweepId}`}
      data-testid="trial-badge"
      className="inline-block rounded bg-violet-100 px-1.5 py-0.5 text-xs font-medium text-violet-800 hover:underline dark:bg-violet-900/40 dark:text-violet-300"
    >
      {job.sweep?.name ?? "Sweep"} #{job.trialNumber}
    </Link>
  );
}

const columns = (base: string) => [
  col.display({
    id: "select",
    header: () => <span className="sr-only">Select to compare</span>,
    cell: ({ row, table }) => (
      <input
        type="checkbox"
        checked={row.getIsSelected()}
        // Counted over every ticked job, also those the current filters hide.
        disabled={!row.getIsSelected() && Object.keys(table.getState().rowSelection).length >= COMPARE_MAX_JOBS}
        onChange={row.getToggleSelectedHandler()}
        aria-label={`Select ${row.original.name} to compare`}
      />
    ),
  }),
  col.accessor("name", {
    header: "Job",
    cell: ({ row }) => (
      <div>
        <Link href={`${base}/jobs/${row.original.id}`} className="font-medium text-indigo-700 hover:underline dark:text-indigo-300">
          {row.original.name}
        </Link>
        <span className="flex flex-wrap items-center gap-2 text-xs text-zinc-500">
          {row.original.model} · {row.original.task}
          <TrialBadge job={row.original} base={base} />
        </span>
      </div>
    ),
  }),
  col.accessor("status", {
    header: "Status",
    cell: ({ row }) => <JobStatusBadge status={row.original.status} cancelling={!!row.original.cancelRequestedAt} />,
  }),
  col.display({
    id: "progress",
    header: "Progress",
    cell: ({ row }) => <ProgressBar progress={row.original.progress} label={progressLabel(row.original)} />,
  }),
  col.accessor("bestMetric", {
    header: "Best",
    cell: ({ row }) => (
      <span title={row.original.bestMetricName ?? undefined}>
        {formatMetric(row.original.bestMetric)} <span className="text-xs text-zinc-500">{metricLabel(row.original.bestMetricName)}</span>
      </span>
    ),
  }),
  col.display({ id: "duration", header: "Duration", cell: ({ row }) => formatDuration(jobDuration(row.original)) }),
  col.accessor((j) => j.createdBy.name, { id: "creator", header: "Creator" }),
  col.accessor("createdAt", { header: "Created", cell: ({ getValue }) => <time dateTime={getValue()}>{timeAgo(getValue())}</time> }),
];

export function JobsPanel({
  project,
  teamId,
  teamSlug,
  base,
  canCreate,
}: {
  project: { id: string };
  teamId: string;
  /** The compare page's team (`/t/<teamSlug>/compare?jobs=…`). */
  teamSlug: string;
  base: string;
  canCreate: boolean;
}) {
  const queryClient = useQueryClient();
  const router = useRouter();
  const search = useSearchParams();
  const cloneId = search.get("clone");
  const [creating, setCreating] = useState(!!cloneId);
  const [status, setStatus] = useState("");
  const [creatorId, setCreatorId] = useState("");
  const [sort, setSort] = useState<keyof typeof SORTS>("created_desc");
  // A sweep's trials would bury the other jobs (50 trials, 50 rows): they have their sweep's page, and show here on request.
  const [showTrials, setShowTrials] = useState(false);
  // Ticked jobs, kept while filters, sort and pages change: "Compare (n)" opens them side by side.
  const [rowSelection, setRowSelection] = useState<RowSelectionState>({});
  const selectedIds = Object.keys(rowSelection).filter((id) => rowSelection[id]);
  const key = ["jobs", project.id, { status, creatorId, sort, showTrials }] as const;

  const clone = useQuery({
    queryKey: ["job-source", cloneId],
    enabled: !!cloneId,
    queryFn: () =>
      api<{ job: { configSource: string | null; config: unknown; sweepId: string | null } }>(`/api/v1/jobs/${cloneId}`).then((r) => r.job),
  });
  const members = useQuery({
    queryKey: ["members", teamId],
    queryFn: () => api<{ members: Member[] }>(`/api/v1/teams/${teamId}/members`).then((r) => r.members),
  });
  const jobs = useInfiniteQuery({
    queryKey: key,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) => {
      const q = new URLSearchParams({ limit: "25", sort, trials: showTrials ? "include" : "exclude" });
      if (status) q.set("status", status);
      if (creatorId) q.set("creatorId", creatorId);
      if (pageParam) q.set("cursor", pageParam);
      return api<JobListPage>(`/api/v1/projects/${project.id}/jobs?${q}`);
    },
    getNextPageParam: (last) => last.nextCursor,
  });

  const refetchAll = () => void queryClient.invalidateQueries({ queryKey: ["jobs", project.id] });
  useLive(
    { projectId: project.id },
    {
      "job:updated": (patch) => {
        let found = false;
        queryClient.setQueriesData<InfiniteData<JobListPage>>(
          { queryKey: ["jobs", project.id] },
          (data) =>
            data && {
              ...data,
              pages: data.pages.map((p) => ({
                ...p,
                jobs: p.jobs.map((j) => (j.id === patch.id ? ((found = true), { ...j, ...patch }) : j)),
              })),
            },
        );
        // A job this page has not seen changed status (a new one submitted elsewhere, a sweep's new trial), or one
        // ended: fetch the list again, so the server's filters (hidden trials too) decide. Progress of a job this
        // page does not show (a hidden trial's epochs) changes nothing here.
        if ((!found && patch.status) || (patch.status && TERMINAL_STATUSES.includes(patch.status))) refetchAll();
      },
    },
    refetchAll,
  );

  // Stable references: TanStack Table resets its state when data or columns change identity,
  // and a new array on every render turns that into a render loop.
  const rows = useMemo(() => jobs.data?.pages.flatMap((p) => p.jobs) ?? [], [jobs.data]);
  const tableColumns = useMemo(() => columns(base), [base]);
  const table = useReactTable({
    data: rows,
    columns: tableColumns,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (r) => r.id,
    state: { rowSelection },
    onRowSelectionChange: setRowSelection,
    enableRowSelection: true,
    manualPagination: true,
    manualSorting: true,
    manualFiltering: true,
  });
  const active = rows.filter((j) => !TERMINAL_STATUSES.includes(j.status)).length;
  const trialCount = jobs.data?.pages[0]?.trialCount ?? 0;

  return (
    <Card className="p-0">
      <div className="flex flex-wrap items-end gap-3 border-b border-zinc-200 p-4 dark:border-zinc-800">
        <h2 className="mr-auto text-lg font-semibold">
          Training jobs {active > 0 && <span className="text-sm font-normal text-zinc-500">· {active} active</span>}
        </h2>
        <label className="text-xs text-zinc-500">
          Status
          <Select aria-label="Filter by status" value={status} onChange={(e) => setStatus(e.target.value)} className="mt-1 w-36">
            <option value="">All</option>
            {JOB_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.toLowerCase()}
              </option>
            ))}
          </Select>
        </label>
        <label className="text-xs text-zinc-500">
          Creator
          <Select aria-label="Filter by creator" value={creatorId} onChange={(e) => setCreatorId(e.target.value)} className="mt-1 w-40">
            <option value="">Anyone</option>
            {members.data?.map((m) => (
              <option key={m.userId} value={m.userId}>
                {m.name}
              </option>
            ))}
          </Select>
        </label>
        <label className="text-xs text-zinc-500">
          Sort
          <Select aria-label="Sort jobs" value={sort} onChange={(e) => setSort(e.target.value as keyof typeof SORTS)} className="mt-1 w-36">
            {Object.entries(SORTS).map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </Select>
        </label>
        {(trialCount > 0 || showTrials) && (
          <label className="flex items-center gap-2 self-center text-sm text-zinc-600 dark:text-zinc-400">
            <input type="checkbox" checked={showTrials} onChange={(e) => setShowTrials(e.target.checked)} />
            Show sweep trials ({trialCount})
          </label>
        )}
        {selectedIds.length > 0 && (
          <span className="flex items-center gap-2 self-center">
            {selectedIds.length >= COMPARE_MIN_JOBS ? (
              <Link
                href={compareHref(teamSlug, selectedIds)}
                className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500"
              >
                Compare ({selectedIds.length})
              </Link>
            ) : (
              <span className="text-xs text-zinc-500">Tick one more to compare</span>
            )}
            <Button variant="ghost" onClick={() => setRowSelection({})}>
              Clear
            </Button>
          </span>
        )}
        {canCreate && !creating && <Button onClick={() => setCreating(true)}>New training job</Button>}
      </div>
      {creating && (!cloneId || clone.isFetched) && (
        <div className="border-b border-zinc-200 p-4 dark:border-zinc-800">
          <SubmitJobForm
            projectId={project.id}
            initialYaml={clone.data ? cloneSource(clone.data) : undefined}
            onDone={(job) => {
              setCreating(false);
              refetchAll();
              router.push(`${base}/jobs/${job.id}`);
            }}
          />
          <Button variant="ghost" onClick={() => (setCreating(false), cloneId && router.replace(base))}>
            Close
          </Button>
        </div>
      )}
      {jobs.isPending ? (
        <p className="p-4 text-sm text-zinc-500">Loading jobs…</p>
      ) : jobs.isError ? (
        <p className="p-4 text-sm text-red-600">Could not load jobs: {jobs.error.message}</p>
      ) : rows.length === 0 ? (
        <div className="p-4">
          <EmptyState
            title={
              status || creatorId
                ? "No jobs match these filters"
                : trialCount > 0
                  ? "No training jobs besides sweep trials"
                  : "No training jobs yet"
            }
          >
            {canCreate ? "Submit one with “New training job”." : "Jobs that your team runs in this project show up here, live."}
          </EmptyState>
        </div>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm" aria-label="Training jobs">
            <thead className="border-b border-zinc-200 text-xs uppercase text-zinc-500 dark:border-zinc-800">
              {table.getHeaderGroups().map((hg) => (
                <tr key={hg.id}>
                  {hg.headers.map((h) => (
                    <th key={h.id} scope="col" className="px-4 py-3 font-medium">
                      {flexRender(h.column.columnDef.header, h.getContext())}
                    </th>
                  ))}
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
                  {row.getVisibleCells().map((cell) => (
                    <td key={cell.id} className="px-4 py-3 align-top">
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {jobs.hasNextPage && (
            <div className="p-4 text-center">
              <Button variant="secondary" busy={jobs.isFetchingNextPage} onClick={() => void jobs.fetchNextPage()}>
                Load more
              </Button>
            </div>
          )}
        </div>
      )}
    </Card>
  );
}
