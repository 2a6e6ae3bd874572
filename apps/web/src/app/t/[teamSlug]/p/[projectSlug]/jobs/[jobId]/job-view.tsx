"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { toast } from "sonner";
import { stringify as toYaml } from "yaml";
import {
  TERMINAL_STATUSES,
  type ClassMetrics,
  type JobEpochRow,
  type JobEventRow,
  type JobLogLine,
  type FailureClass,
  type JobSummary,
  type Task,
  type TrialState,
} from "@wyolo/contracts";
import { Button, Card, PageHeader } from "@/components/ui";
import { JobStatusBadge, ProgressBar } from "@/components/job-status";
import { progressLabel } from "@/components/jobs/progress-label";
import { JobEpochCharts } from "@/components/jobs/metric-chart";
import { PlotsGallery, plotsKey } from "@/components/jobs/plots-gallery";
import { ClassMetricsTable } from "@/components/jobs/class-metrics-table";
import { addResourceSample, ResourceCharts, resourcesKey } from "@/components/jobs/resource-chart";
import { api } from "@/lib/api";
import { reportError } from "@/lib/form-errors";
import { formatBytes, formatDuration, formatMetric, jobDuration, metricLabel } from "@/lib/format";
import { ExportsPanel } from "@/components/jobs/exports-panel";
import { SubmitJobForm, type StartFrom } from "@/components/jobs/submit-job-form";
import { ConfirmDialog } from "@/components/dialog";
import { useLive } from "@/lib/live";

type JobDetail = {
  job: JobSummary & {
    config: unknown;
    configSource: string | null;
    failureClass: string | null;
    logTail: string | null;
    bestEpoch: number | null;
    retryOfId: string | null;
    /** A sweep's trial: what its sweep told Optuna (null while not told), its final objective, the epoch its pruner stopped it. */
    trialState: TrialState | null;
    /** Values the config left out, by path, and where they came from (a platform default such as DEFAULT_EPOCHS). */
    configSources: Record<string, string>;
    trialValue: number | null;
    prunedAtEpoch: number | null;
    /** The final validation per class (null until the run finishes, or from a trainer that sends none). */
    classMetrics: ClassMetrics[] | null;
    /** The dataset version it trained on (`train.data: dataset:<name>@v<N>`). */
    dataset: { id: string; name: string; version: number; versionId: string; label: string } | null;
  };
  team: { id: string; name: string; slug: string };
  events: JobEventRow[];
  mlflow: { uiUrl: string | null };
  permissions: { cancel: boolean; create: boolean };
};

const MAX_LINES = 2000;

/** How each trainer failure class reads on the page (FAILURE_CLASSES in the trainer protocol). */
const FAILURE_LABELS: Record<FailureClass, string> = {
  OUT_OF_MEMORY: "out of memory",
  DATASET_NOT_FOUND: "dataset not found",
  DATASET_INVALID: "dataset not usable",
  INVALID_ARGUMENT: "invalid argument",
  PATH_NOT_ALLOWED: "path not allowed",
  INTERRUPTED: "interrupted",
  UNKNOWN: "unknown error",
};
const failureLabel = (failureClass: string) =>
  Object.hasOwn(FAILURE_LABELS, failureClass) ? `${FAILURE_LABELS[failureClass as FailureClass]} (${failureClass})` : failureClass;

type Artifact = { id: string; name: string; size: number; sha256: string; updatedAt: string };

export function JobView({
  jobId,
  base,
  crumbs,
}: {
  jobId: string;
  base: string;
  crumbs: { team: string; teamHref: string; project: string; projectHref: string };
}) {
  const queryClient = useQueryClient();
  const router = useRouter();
  const [fineTuning, setFineTuning] = useState(false);
  const [confirmingCancel, setConfirmingCancel] = useState(false);
  const detailKey = ["job", jobId];
  const metricsKey = ["job-metrics", jobId];
  const logsKey = ["job-logs", jobId];
  const detail = useQuery({ queryKey: detailKey, queryFn: () => api<JobDetail>(`/api/v1/jobs/${jobId}`) });
  // Refetches merge with what live events already added: a response that left the server
  // before the newest epoch or line was written must not erase it.
  const metrics = useQuery({
    queryKey: metricsKey,
    queryFn: async () => {
      const fresh = (await api<{ epochs: JobEpochRow[] }>(`/api/v1/jobs/${jobId}/metrics`)).epochs;
      const byEpoch = new Map((queryClient.getQueryData<JobEpochRow[]>(metricsKey) ?? []).map((e) => [e.epoch, e]));
      for (const e of fresh) byEpoch.set(e.epoch, e);
      return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
    },
  });
  const logs = useQuery({
    queryKey: logsKey,
    queryFn: async () => {
      const fresh = (await api<{ lines: JobLogLine[] }>(`/api/v1/jobs/${jobId}/logs?after=0&limit=${MAX_LINES}`)).lines;
      const bySeq = new Map((queryClient.getQueryData<JobLogLine[]>(logsKey) ?? []).map((l) => [l.seq, l]));
      for (const l of fresh) bySeq.set(l.seq, l);
      return [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(-MAX_LINES);
    },
  });

  const artifactsKey = ["job-artifacts", jobId];
  const artifacts = useQuery({
    queryKey: artifactsKey,
    queryFn: () => api<{ artifacts: Artifact[] }>(`/api/v1/jobs/${jobId}/artifacts`).then((r) => r.artifacts),
  });
  const resync = () =>
    void Promise.all(
      [detailKey, metricsKey, logsKey, artifactsKey, plotsKey(jobId), resourcesKey(jobId)].map((queryKey) =>
        queryClient.invalidateQueries({ queryKey }),
      ),
    );
  useLive(
    { jobId },
    {
      "job:updated": (patch) => {
        if (patch.id !== jobId) return;
        queryClient.setQueryData<JobDetail>(detailKey, (d) => d && { ...d, job: { ...d.job, ...patch } });
        // The worker writes everything before it announces the end: fetch the final state.
        if (patch.status && TERMINAL_STATUSES.includes(patch.status)) resync();
      },
      "job:epoch": ({ jobId: id, epoch }) =>
        id === jobId &&
        queryClient.setQueryData<JobEpochRow[]>(metricsKey, (rows = []) =>
          [...rows.filter((r) => r.epoch !== epoch.epoch), epoch].sort((a, b) => a.epoch - b.epoch),
        ),
      "job:log": ({ jobId: id, lines }) =>
        id === jobId &&
        queryClient.setQueryData<JobLogLine[]>(logsKey, (rows = []) => {
          const last = rows.at(-1)?.seq ?? 0;
          return [...rows, ...lines.filter((l) => l.seq > last)].slice(-MAX_LINES);
        }),
      "job:artifacts": ({ jobId: id }) => {
        if (id !== jobId) return;
        void queryClient.invalidateQueries({ queryKey: artifactsKey });
        void queryClient.invalidateQueries({ queryKey: plotsKey(jobId) });
      },
      "job:resources": ({ jobId: id, sample }) => id === jobId && addResourceSample(queryClient, jobId, sample),
      "job:event": ({ jobId: id, event }) =>
        id === jobId &&
        queryClient.setQueryData<JobDetail>(
          detailKey,
          (d) => d && (d.events.some((e) => e.id === event.id) ? d : { ...d, events: [...d.events, event] }),
        ),
    },
    resync,
  );
  // A trial's state in its sweep is told after the job ended, by the sweep's advance step.
  const trialNumber = detail.data?.job.trialNumber ?? null;
  const sweepId = detail.data?.job.sweepId ?? null;
  useLive(
    sweepId ? { sweepId } : null,
    {
      "sweep:trial": (patch) => {
        if (patch.sweepId === sweepId && patch.number === trialNumber && "state" in patch)
          void queryClient.invalidateQueries({ queryKey: detailKey });
      },
    },
    () => void queryClient.invalidateQueries({ queryKey: detailKey }),
  );

  const cancel = useMutation({
    mutationFn: () => api<{ job: JobSummary }>(`/api/v1/jobs/${jobId}/cancel`, { method: "POST" }),
    onSuccess: ({ job }) => {
      setConfirmingCancel(false);
      toast.success(job.status === "CANCELLED" ? "Job cancelled" : "Stopping at the next epoch boundary");
      resync();
    },
    onError: (err) => (setConfirmingCancel(false), reportError(err)),
  });
  const retry = useMutation({
    mutationFn: () => api<{ job: JobSummary }>(`/api/v1/jobs/${jobId}/retry`, { method: "POST" }),
    onSuccess: ({ job }) => {
      toast.success(`Retry queued as “${job.name}”`);
      router.push(`${base}/jobs/${job.id}`);
    },
    onError: (err) => reportError(err),
  });

  if (detail.isPending) return <p className="text-sm text-zinc-500">Loading job…</p>;
  if (detail.isError) return <p className="text-sm text-red-600">Could not load the job: {detail.error.message}</p>;
  const { job, events, permissions } = detail.data;
  const ended = TERMINAL_STATUSES.includes(job.status);
  const epochs = metrics.data ?? [];
  const hasBestWeights = !!artifacts.data?.some((a) => a.name === "weights/best.pt");
  const source = job.config as { type?: StartFrom["type"]; train?: { data?: unknown; imgsz?: unknown } };
  const startFrom: StartFrom = {
    id: job.id,
    name: job.name,
    task: job.task as Task,
    type: source.type ?? "yolo",
    data: typeof source.train?.data === "string" ? source.train.data : "",
  };

  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm break-words text-zinc-500">
        <Link href={crumbs.teamHref} className="hover:underline">
          {crumbs.team}
        </Link>{" "}
        /{" "}
        <Link href={crumbs.projectHref} className="hover:underline">
          {crumbs.project}
        </Link>{" "}
        / <span aria-current="page">{job.name}</span>
      </nav>
      <PageHeader
        title={job.name}
        subtitle={
          <span className="inline-flex flex-wrap items-center gap-2">
            <JobStatusBadge status={job.status} cancelling={!!job.cancelRequestedAt} /> {job.model} · {job.task} · {job.priority} priority ·
            by {job.createdBy.name}
            {job.dataset && (
              <>
                {" "}
                · dataset{" "}
                <Link
                  href={`/t/${detail.data.team.slug}/datasets/${encodeURIComponent(job.dataset.name)}?v=${job.dataset.version}`}
                  className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
                  data-testid="job-dataset"
                >
                  {job.dataset.label}
                </Link>
              </>
            )}
          </span>
        }
        actions={
          <>
            {permissions.cancel && !ended && (
              <Button variant="danger" busy={cancel.isPending} disabled={!!job.cancelRequestedAt} onClick={() => setConfirmingCancel(true)}>
                {job.cancelRequestedAt ? "Cancelling…" : "Cancel"}
              </Button>
            )}
            {permissions.create && ended && !job.sweepId && (
              <Button variant="secondary" busy={retry.isPending} onClick={() => retry.mutate()}>
                Retry
              </Button>
            )}
            {permissions.create && (
              <Button variant="secondary" onClick={() => router.push(`${base}?clone=${jobId}`)}>
                Clone and edit
              </Button>
            )}
            {permissions.create && job.status === "SUCCEEDED" && hasBestWeights && (
              <Button variant="secondary" onClick={() => setFineTuning((v) => !v)} aria-expanded={fineTuning}>
                Fine-tune from this job
              </Button>
            )}
          </>
        }
      />
      <ConfirmDialog
        open={confirmingCancel}
        title="Cancel this job?"
        confirmLabel="Cancel job"
        busy={cancel.isPending}
        onConfirm={() => cancel.mutate()}
        onClose={() => setConfirmingCancel(false)}
      >
        {job.status === "QUEUED"
          ? `“${job.name}” has not started; it leaves the queue.`
          : `“${job.name}” stops at the next epoch boundary; what it trained so far (last.pt, best.pt, its metrics) is kept.`}
      </ConfirmDialog>
      {fineTuning && (
        <section aria-label="Fine-tune from this job">
          <SubmitJobForm projectId={job.projectId} startFrom={startFrom} onDone={(created) => router.push(`${base}/jobs/${created.id}`)} />
        </section>
      )}

      {job.sweepId && <TrialLine job={job} base={base} ended={ended} />}
      <MlflowLine uiUrl={detail.data.mlflow.uiUrl} job={job} />

      <div className="mb-6 grid gap-4 sm:grid-cols-2 lg:grid-cols-5 [&>*]:min-w-0">
        <Card className="sm:col-span-2">
          <p className="mb-2 text-xs uppercase text-zinc-500">Progress</p>
          <ProgressBar progress={job.progress} label={progressLabel(job)} />
        </Card>
        <Stat
          label={`Best ${metricLabel(job.bestMetricName) || "metric"}`}
          value={formatMetric(job.bestMetric)}
          hint={detail.data.job.bestEpoch ? `epoch ${detail.data.job.bestEpoch}` : undefined}
        />
        <Stat label="Duration" value={formatDuration(jobDuration(job))} />
        <Stat label="Worker" value={job.workerName ?? "—"} hint={job.attempt > 1 ? `attempt ${job.attempt}` : undefined} />
      </div>

      {job.status === "FAILED" && (
        <Card className="mb-6 border-red-300 dark:border-red-900">
          <h2 className="font-semibold text-red-700 dark:text-red-400">
            Failed{detail.data.job.failureClass ? ` · ${failureLabel(detail.data.job.failureClass)}` : ""}
          </h2>
          <p className="mt-1 text-sm break-words">{job.failureReason}</p>
          {detail.data.job.logTail && (
            <pre className="mt-3 max-h-60 overflow-auto rounded bg-zinc-950 p-3 text-xs break-words whitespace-pre-wrap text-zinc-200">
              {detail.data.job.logTail}
            </pre>
          )}
        </Card>
      )}

      <JobEpochCharts epochs={epochs} />
      <ResourceCharts jobId={jobId} ended={ended} />
      {job.classMetrics && job.classMetrics.length > 0 && (
        <div className="mb-6">
          <ClassMetricsTable classes={job.classMetrics} />
        </div>
      )}
      <div className="mb-6">
        <PlotsGallery jobId={jobId} ended={ended} />
      </div>

      <div className="grid gap-6 lg:grid-cols-3 [&>*]:min-w-0">
        <div className="lg:col-span-2">
          <LogConsole lines={logs.data ?? []} live={!ended} />
        </div>
        <div className="space-y-6">
          <Card>
            <h2 className="mb-3 font-semibold">Artifacts</h2>
            {artifacts.data?.length ? (
              <ul className="space-y-2 text-sm" aria-label="Artifacts">
                {artifacts.data.map((a) => (
                  <li key={a.id} className="flex items-center justify-between gap-2">
                    <span className="min-w-0">
                      <span className="font-mono break-all">{a.name}</span>
                      <span className="block text-xs text-zinc-500" title={`sha256 ${a.sha256}`}>
                        {formatBytes(a.size)} · sha256 {a.sha256.slice(0, 12)}…
                      </span>
                    </span>
                    <a
                      href={`/api/v1/jobs/${jobId}/artifacts/${a.id}/download`}
                      className="shrink-0 rounded-md border border-zinc-300 px-2 py-1 text-xs font-medium hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-800"
                      aria-label={`Download ${a.name}`}
                    >
                      Download
                    </a>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="text-sm text-zinc-500">
                {ended
                  ? "No artifacts stored (no object store configured, or the run left none)."
                  : "Weights appear here as the run saves them."}
              </p>
            )}
          </Card>
          <ExportsPanel
            jobId={jobId}
            jobSucceeded={job.status === "SUCCEEDED"}
            hasWeights={hasBestWeights}
            trainImgsz={typeof source.train?.imgsz === "number" ? source.train.imgsz : undefined}
          />
          <Card>
            <h2 className="mb-3 font-semibold">Timeline</h2>
            <ol className="space-y-2 text-sm" aria-label="Status timeline">
              {events.map((e) => (
                <li key={e.id} className="border-l-2 border-indigo-300 pl-3 dark:border-indigo-800">
                  <p className="break-words">{e.message}</p>
                  <time className="text-xs text-zinc-500" dateTime={e.createdAt}>
                    {new Date(e.createdAt).toLocaleString()}
                  </time>
                </li>
              ))}
            </ol>
          </Card>
          <Card>
            <h2 className="mb-3 font-semibold">Resolved config</h2>
            <pre className="max-h-96 overflow-auto rounded bg-zinc-50 p-3 text-xs dark:bg-zinc-950">{toYaml(job.config)}</pre>
            {Object.keys(job.configSources ?? {}).length > 0 && (
              <ul className="mt-2 space-y-0.5 text-xs text-zinc-500" aria-label="Where values came from">
                {Object.entries(job.configSources).map(([path, from]) => (
                  <li key={path}>
                    <code>{path}</code>: not in the submitted config; from {from}
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </div>
      </div>
    </>
  );
}

function trialStateLabel(job: JobDetail["job"], ended: boolean): string {
  if (job.trialState === "PRUNED") return job.prunedAtEpoch != null ? `PRUNED at epoch ${job.prunedAtEpoch}` : "PRUNED";
  if (job.trialState === "COMPLETE") return `COMPLETE · value ${formatMetric(job.trialValue)}`;
  if (job.trialState === "FAIL") return "FAIL";
  return ended ? "ended; the sweep records it shortly" : "running";
}

/** A sweep's trial says so: its sweep, and what the sweep made of it. Retry is not offered: the sweep adds trials instead. */
function TrialLine({ job, base, ended }: { job: JobDetail["job"]; base: string; ended: boolean }) {
  return (
    <p className="-mt-3 mb-2 flex flex-wrap items-center gap-2 text-sm" data-testid="trial-line">
      <span>
        Trial #{job.trialNumber} of sweep{" "}
        <Link href={`${base}/sweeps/${job.sweepId}`} className="font-medium text-indigo-700 hover:underline dark:text-indigo-300">
          {job.sweep?.name ?? "its sweep"}
        </Link>
      </span>
      <span
        data-testid="trial-state"
        data-state={job.trialState ?? ""}
        className="rounded bg-zinc-100 px-2 py-0.5 text-xs font-semibold text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300"
      >
        {trialStateLabel(job, ended)}
      </span>
    </p>
  );
}

function MlflowLine({ uiUrl, job }: { uiUrl: string | null; job: JobSummary }) {
  if (!uiUrl)
    return <p className="-mt-3 mb-4 text-sm text-zinc-500">MLflow is not configured on this platform: this job is tracked here only.</p>;
  return (
    <p className="-mt-3 mb-4 flex flex-wrap items-center gap-2 text-sm">
      {job.mlflowRunId && job.mlflowExperimentId ? (
        <a
          href={`${uiUrl}/#/experiments/${job.mlflowExperimentId}/runs/${job.mlflowRunId}`}
          target="_blank"
          rel="noreferrer"
          className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
        >
          MLflow run ↗
        </a>
      ) : (
        <span className="text-zinc-500">MLflow run: {job.status === "QUEUED" ? "created when the job starts" : "being created…"}</span>
      )}
      {job.trackingDelayed && (
        <span
          className="rounded bg-amber-100 px-2 py-0.5 text-xs font-semibold text-amber-800 dark:bg-amber-900/40 dark:text-amber-300"
          title="MLflow is not answering; the worker keeps the numbers and sends them when it is back"
        >
          tracking delayed
        </span>
      )}
    </p>
  );
}

function Stat({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <Card>
      <p className="text-xs uppercase text-zinc-500">{label}</p>
      <p className="mt-1 text-xl font-semibold break-words tabular-nums">{value}</p>
      {hint && <p className="text-xs text-zinc-500">{hint}</p>}
    </Card>
  );
}

function LogConsole({ lines, live }: { lines: JobLogLine[]; live: boolean }) {
  const ref = useRef<HTMLPreElement>(null);
  const follow = useRef(true);
  useEffect(() => {
    const el = ref.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <Card className="p-0">
      <div className="flex items-center justify-between border-b border-zinc-200 px-4 py-2 dark:border-zinc-800">
        <h2 className="font-semibold">Log</h2>
        <span className="text-xs text-zinc-500">{live ? "following new lines" : `${lines.length} lines`}</span>
      </div>
      <pre
        ref={ref}
        aria-label="Training log"
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
        className="h-96 overflow-auto bg-zinc-950 p-4 font-mono text-xs leading-relaxed break-all whitespace-pre-wrap text-zinc-200"
      >
        {lines.length === 0 ? (
          <span className="text-zinc-500">No output yet.</span>
        ) : (
          lines.map((l) => (
            <div key={l.seq} className={l.stream === "stderr" ? "text-amber-300" : l.stream === "trainer" ? "text-sky-300" : undefined}>
              {l.line}
            </div>
          ))
        )}
      </pre>
    </Card>
  );
}
