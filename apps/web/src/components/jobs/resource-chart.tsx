"use client";
import { useQuery, type QueryClient } from "@tanstack/react-query";
import { Fragment, useMemo } from "react";
import { inputBoundHint, RESOURCE_SAMPLE_MS, type ResourceSample } from "@wyolo/contracts";
import { LineChart } from "@/components/charts/line-chart";
import { resourceSeries } from "@/components/charts/resource-series";
import { formatValue } from "@/components/charts/chart-math";
import { api } from "@/lib/api";

export const resourcesKey = (jobId: string) => ["job-resources", jobId];

/** A live `job:resources` sample joins the series (the page's useLive calls this). */
export function addResourceSample(queryClient: QueryClient, jobId: string, sample: ResourceSample) {
  queryClient.setQueryData<ResourceSample[]>(resourcesKey(jobId), (rows) =>
    rows ? [...rows.filter((r) => r.at !== sample.at), sample].sort((a, b) => a.at.localeCompare(b.at)) : rows,
  );
}

const percent = (v: number) => `${formatValue(v, 3)}%`;
const gigabytes = (v: number) => `${formatValue(v, 3)} GB`;

/** `code` spans in a hint's text (it names config keys in backticks). */
function withCode(text: string) {
  return text.split("`").map((part, i) =>
    i % 2 ? (
      <code key={i} className="rounded bg-amber-100 px-1 dark:bg-amber-900/60">
        {part}
      </code>
    ) : (
      <Fragment key={i}>{part}</Fragment>
    ),
  );
}

/** The job's GPU, CPU and memory use, live while it runs, with the input-bound hint when the data loader held the GPUs back. */
export function ResourceCharts({ jobId, ended }: { jobId: string; ended: boolean }) {
  const resources = useQuery({
    queryKey: resourcesKey(jobId),
    queryFn: () => api<{ samples: ResourceSample[] }>(`/api/v1/jobs/${jobId}/resources`).then((r) => r.samples),
  });
  const samples = useMemo(() => resources.data ?? [], [resources.data]);
  const { util, memory } = useMemo(() => resourceSeries(samples), [samples]);
  const hint = useMemo(() => inputBoundHint(samples), [samples]);
  const last = samples.at(-1);
  if (resources.isPending) return null;
  const empty = ended
    ? "No resource samples were recorded for this job."
    : `Sampled every ${RESOURCE_SAMPLE_MS / 1000} s while the job trains.`;
  return (
    <section aria-label="Resources" className="mb-6">
      {hint && (
        <p
          role="note"
          data-testid="input-bound-hint"
          className="mb-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950/40 dark:text-amber-200"
        >
          <strong className="font-semibold">Input-bound: </strong>
          {withCode(hint.message)}
          <span className="ml-1 text-xs opacity-80">
            (GPU {Math.round(hint.gpuUtil)}%, CPU {Math.round(hint.hostCpu)}% for {Math.round(hint.share * 100)}% of the run)
          </span>
        </p>
      )}
      <div className="grid gap-4 lg:grid-cols-2 [&>*]:min-w-0">
        <LineChart
          title="GPU and CPU utilisation"
          testId="chart-utilisation"
          series={util}
          xKind="time"
          yRange={[0, 100]}
          yFormat={percent}
          allowLog={false}
          emptyText={empty}
        />
        <LineChart
          title="Memory"
          testId="chart-memory"
          series={memory}
          xKind="time"
          yFormat={gigabytes}
          yFromZero
          allowLog={false}
          emptyText={empty}
          actions={
            last?.cpuPercent != null ? (
              <span className="text-xs text-zinc-500" title="The trainer's process tree, latest sample">
                trainer {formatValue(last.cpuPercent / 100, 2)} cores
              </span>
            ) : undefined
          }
        />
      </div>
    </section>
  );
}
