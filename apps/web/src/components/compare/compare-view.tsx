"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { clsx } from "clsx";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useMemo, useState } from "react";
import { toast } from "sonner";
import { COMPARE_MIN_JOBS, defaultCompareMetrics, metricGroup, type CompareAnswer } from "@wyolo/contracts";
import { Button, Card, EmptyState, PageHeader } from "@/components/ui";
import { JobStatusBadge } from "@/components/job-status";
import { CHART_COLORS, LineChart } from "@/components/charts/line-chart";
import { formatValue } from "@/components/charts/chart-math";
import { api } from "@/lib/api";
import { formatDuration } from "@/lib/format";
import { ClassTable, JobHeads, MetricsTable, ParamsTable, type Column } from "./compare-tables";
import { compareHref, metricName, parseList } from "./compare-url";
import { JobPicker } from "./job-picker";

type Team = { id: string; slug: string; name: string };

const GROUPS = [
  ["metrics", "Metrics"],
  ["val", "Validation losses"],
  ["train", "Train losses"],
  ["lr", "Learning rates"],
  ["other", "Other"],
] as const;

function Section({ title, children, className }: { title: string; children: React.ReactNode; className?: string }) {
  return (
    <Card className={clsx("mt-6 p-0", className)}>
      <h2 className="border-b border-zinc-200 px-4 py-3 text-lg font-semibold dark:border-zinc-800">{title}</h2>
      {children}
    </Card>
  );
}

/**
 * The compare page: the URL holds the selection (`?jobs=a,b&metrics=…`), so a link shows the same
 * comparison to anyone of the team. Columns keep the URL's order and a colour each, the same in
 * every chart and table.
 */
export function CompareView({ team }: { team: Team }) {
  const router = useRouter();
  const search = useSearchParams();
  const ids = parseList(search.get("jobs"));
  const chosen = search.has("metrics") ? parseList(search.get("metrics")) : null;
  const [adding, setAdding] = useState(ids.length < COMPARE_MIN_JOBS);

  const navigate = (jobs: string[], metrics: string[] | null = chosen) =>
    router.replace(compareHref(team.slug, jobs, metrics), { scroll: false });

  const compare = useQuery({
    queryKey: ["compare", team.id, ids.join(",")],
    enabled: ids.length >= COMPARE_MIN_JOBS,
    placeholderData: keepPreviousData,
    queryFn: () => api<CompareAnswer>(`/api/v1/teams/${team.id}/compare?jobs=${ids.map(encodeURIComponent).join(",")}`),
  });
  const data = compare.data;
  const columns: Column[] = useMemo(
    () => (data?.jobs ?? []).map((job, i) => ({ job, color: CHART_COLORS[i % CHART_COLORS.length]! })),
    [data],
  );
  const keys = useMemo(() => Object.keys(data?.series ?? {}).sort(), [data]);
  const metrics = (chosen ?? defaultCompareMetrics(keys)).filter((k) => keys.includes(k));
  const toggleMetric = (key: string) => navigate(ids, metrics.includes(key) ? metrics.filter((k) => k !== key) : [...metrics, key]);

  const copyLink = async () => {
    try {
      await navigator.clipboard.writeText(window.location.href);
      toast.success("Link copied");
    } catch {
      toast.error("Could not copy: select the address bar's URL instead");
    }
  };

  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm text-zinc-500">
        <Link href={`/t/${team.slug}`} className="hover:underline">
          {team.name}
        </Link>{" "}
        / <span aria-current="page">Compare</span>
      </nav>
      <PageHeader
        title="Compare runs"
        subtitle={`${ids.length} job${ids.length === 1 ? "" : "s"} · this page's URL shows the same comparison to your team`}
        actions={
          <>
            <Button variant="secondary" onClick={() => setAdding((a) => !a)} aria-expanded={adding}>
              {adding ? "Close" : "Add jobs"}
            </Button>
            <Button variant="secondary" onClick={copyLink} disabled={ids.length < COMPARE_MIN_JOBS}>
              Copy link
            </Button>
          </>
        }
      />
      {adding && (
        <Card className="mb-6">
          <h2 className="mb-3 text-lg font-semibold">Add jobs from any project of {team.name}</h2>
          <JobPicker teamId={team.id} selected={ids} onAdd={(more) => (navigate([...ids, ...more]), setAdding(false))} />
        </Card>
      )}
      {ids.length < COMPARE_MIN_JOBS ? (
        <EmptyState title={`Pick at least ${COMPARE_MIN_JOBS} jobs to compare`}>
          Tick jobs in a project&apos;s job table and press “Compare”, or add them here with “Add jobs”.
        </EmptyState>
      ) : compare.isError ? (
        <EmptyState title="Could not compare these jobs">{compare.error.message}</EmptyState>
      ) : !data ? (
        <p className="text-sm text-zinc-500">Loading the comparison…</p>
      ) : (
        <div className={clsx(compare.isFetching && "opacity-70 transition-opacity")}>
          <Section title="Runs" className="mt-0">
            <div className="overflow-x-auto">
              <table aria-label="Runs" className="w-full text-sm">
                <thead className="border-b border-zinc-200 dark:border-zinc-800">
                  <tr>
                    <th scope="col" className="sticky left-0 z-10 bg-white px-3 py-2 dark:bg-zinc-900" />
                    <JobHeads columns={columns} />
                  </tr>
                </thead>
                <tbody>
                  {RUN_ROWS.map(([label, cell]) => (
                    <tr key={label} className="border-b border-zinc-100 last:border-0 dark:border-zinc-800">
                      <th
                        scope="row"
                        className="sticky left-0 z-10 whitespace-nowrap bg-white px-3 py-2 text-left text-xs font-medium text-zinc-500 dark:bg-zinc-900"
                      >
                        {label}
                      </th>
                      {columns.map((c) => (
                        <td key={c.job.id} className="px-3 py-2 align-top tabular-nums">
                          {cell(c, team.slug)}
                        </td>
                      ))}
                    </tr>
                  ))}
                  <tr>
                    <th scope="row" className="sticky left-0 z-10 bg-white px-3 py-2 dark:bg-zinc-900">
                      <span className="sr-only">Remove</span>
                    </th>
                    {columns.map(({ job }) => (
                      <td key={job.id} className="px-3 py-2">
                        <button
                          type="button"
                          className="text-xs text-zinc-500 hover:text-red-600 hover:underline"
                          onClick={() => navigate(ids.filter((id) => id !== job.id))}
                          aria-label={`Remove ${job.name} from the comparison`}
                        >
                          Remove
                        </button>
                      </td>
                    ))}
                  </tr>
                </tbody>
              </table>
            </div>
          </Section>

          <Section title="Curves">
            <div className="space-y-2 border-b border-zinc-200 px-4 py-3 dark:border-zinc-800" role="group" aria-label="Metrics to chart">
              {GROUPS.map(([group, label]) => {
                const inGroup = keys.filter((k) => metricGroup(k) === group);
                if (!inGroup.length) return null;
                return (
                  <div key={group} className="flex flex-wrap items-center gap-1.5">
                    <span className="w-full text-xs font-medium text-zinc-500 sm:w-36">{label}</span>
                    {inGroup.map((key) => (
                      <button
                        key={key}
                        type="button"
                        aria-pressed={metrics.includes(key)}
                        onClick={() => toggleMetric(key)}
                        className={clsx(
                          "rounded-full border px-2.5 py-0.5 text-xs",
                          metrics.includes(key)
                            ? "border-indigo-600 bg-indigo-600 text-white dark:border-indigo-400 dark:bg-indigo-500"
                            : "border-zinc-300 text-zinc-700 hover:border-indigo-400 dark:border-zinc-700 dark:text-zinc-300",
                        )}
                      >
                        {metricName(key)}
                      </button>
                    ))}
                  </div>
                );
              })}
            </div>
            {metrics.length === 0 ? (
              <p className="px-4 py-3 text-sm text-zinc-500">{keys.length ? "Pick metrics to chart above." : "No epochs recorded yet."}</p>
            ) : (
              <div className="grid gap-4 p-4 lg:grid-cols-2">
                {metrics.map((key) => (
                  <LineChart
                    key={key}
                    title={metricName(key)}
                    testId={`compare-chart-${key}`}
                    series={columns.map(({ job, color }) => ({
                      id: job.id,
                      label: job.name,
                      color,
                      points: data.series[key]?.[job.id] ?? [],
                    }))}
                  />
                ))}
              </div>
            )}
          </Section>

          <Section title="Parameters">
            <ParamsTable columns={columns} data={data} />
          </Section>
          <Section title="Metrics: best and final epoch">
            <MetricsTable columns={columns} data={data} />
          </Section>
          <Section title="Per-class metrics (final validation)">
            <ClassTable columns={columns} data={data} />
          </Section>
        </div>
      )}
    </>
  );
}

const RUN_ROWS: [string, (c: Column, teamSlug: string) => React.ReactNode][] = [
  [
    "Job",
    ({ job }, teamSlug) => (
      <Link
        href={`/t/${teamSlug}/p/${job.project.slug}/jobs/${job.id}`}
        className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
      >
        {job.name}
      </Link>
    ),
  ],
  ["Project", ({ job }) => job.project.name],
  ["Status", ({ job }) => <JobStatusBadge status={job.status} />],
  ["Model", ({ job }) => <span className="font-mono text-xs">{job.model}</span>],
  ["Task", ({ job }) => job.task],
  ["Dataset", ({ job }) => <span className="font-mono text-xs wrap-anywhere">{job.dataset ?? "—"}</span>],
  ["Epochs", ({ job }) => `${job.epochs} / ${job.totalEpochs}`],
  [
    "Best",
    ({ job }) =>
      job.best ? (
        <span>
          {formatValue(job.best.value)}{" "}
          <span className="text-xs text-zinc-500">
            {metricName(job.best.name)} @ {job.best.epoch}
          </span>
        </span>
      ) : (
        "—"
      ),
  ],
  ["Duration", ({ job }) => formatDuration(job.durationSeconds)],
  ["GPU-hours", ({ job }) => (job.gpuHours === null ? "—" : `${job.gpuHours.toFixed(2)} (${job.gpus === 0 ? "CPU" : `${job.gpus} GPU`})`)],
];
