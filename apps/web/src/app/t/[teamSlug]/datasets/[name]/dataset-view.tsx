"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { clsx } from "clsx";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useRef, useState } from "react";
import { toast } from "sonner";
import type { DatasetDetail, DatasetListAnswer, DatasetVersionDetail, DatasetVersionSummary } from "@wyolo/contracts";
import { Button, Card, EmptyState, PageHeader } from "@/components/ui";
import { ConfirmDialog } from "@/components/dialog";
import { JobStatusBadge } from "@/components/job-status";
import { VersionStatusBadge } from "@/components/datasets/version-status";
import { UploadPanel } from "@/components/datasets/upload-panel";
import { useDatasetUpload } from "@/components/datasets/use-dataset-upload";
import { ReportView } from "@/components/datasets/report-view";
import { StatsCharts } from "@/components/datasets/stats-charts";
import { PreviewGallery, type GalleryFilter } from "@/components/datasets/preview-gallery";
import { DiffView } from "@/components/datasets/diff-view";
import { splitOrder } from "@/components/datasets/stats-data";
import { api } from "@/lib/api";
import { reportError } from "@/lib/form-errors";
import { useLive } from "@/lib/live";
import { formatBytes, timeAgo } from "@/lib/format";
import type { JobStatus } from "@wyolo/contracts";

type Team = { id: string; name: string; slug: string };
const TABS = ["report", "stats", "preview", "compare", "jobs"] as const;
type Tab = (typeof TABS)[number];
const TAB_LABELS: Record<Tab, string> = { report: "Report", stats: "Statistics", preview: "Preview", compare: "Compare", jobs: "Jobs" };

/** A dataset: its versions (live), the upload area, and the selected version's report, stats, preview, diff and jobs. */
export function DatasetView({ team, name }: { team: Team; name: string }) {
  const queryClient = useQueryClient();
  const pathname = usePathname();
  const search = useSearchParams();
  // The page is addressed by name (links say /datasets/<name>); the API by id.
  const list = useQuery({
    queryKey: ["datasets", team.id],
    queryFn: () => api<DatasetListAnswer>(`/api/v1/teams/${team.id}/datasets`),
    // A list cached before the dataset existed must not answer "no such dataset".
    refetchOnMount: "always",
  });
  const datasetId = list.data?.datasets.find((d) => d.name === name)?.id;
  const detail = useQuery({
    queryKey: ["dataset", datasetId],
    queryFn: () => api<{ dataset: DatasetDetail }>(`/api/v1/datasets/${datasetId}`).then((r) => r.dataset),
    enabled: !!datasetId,
  });
  const refresh = useCallback(() => {
    void queryClient.invalidateQueries({ queryKey: ["dataset", datasetId] });
    void queryClient.invalidateQueries({ queryKey: ["dataset-version"] });
  }, [queryClient, datasetId]);
  useLive(datasetId ? { datasetId } : null, { "dataset:version": () => refresh() }, refresh);
  const upload = useDatasetUpload(datasetId, refresh);
  const [base, setBase] = useState<number | null>(null);
  const uploadRef = useRef<HTMLDivElement>(null);

  // The browser's own history API: Next keeps useSearchParams in step without a server round trip per tab.
  const setParams = (patch: Record<string, string | null>) => {
    const q = new URLSearchParams(search.toString());
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) q.delete(k);
      else q.set(k, v);
    }
    window.history.replaceState(null, "", `${pathname}?${q}`);
  };

  if (list.isPending || (!datasetId && list.isFetching) || (datasetId && detail.isPending))
    return <p className="text-sm text-zinc-500">Loading the dataset…</p>;
  if (list.isError) return <p className="text-sm text-red-600">Could not load the dataset: {list.error.message}</p>;
  if (!datasetId)
    return (
      <EmptyState title={`No dataset named ${name} in ${team.name}`}>
        <Link className="text-indigo-600 hover:underline dark:text-indigo-400" href={`/t/${team.slug}/datasets`}>
          All datasets
        </Link>
      </EmptyState>
    );
  if (detail.isError || !detail.data) return <p className="text-sm text-red-600">Could not load the dataset: {detail.error?.message}</p>;
  const dataset = detail.data;
  const versions = dataset.versions;
  const wanted = Number(search.get("v"));
  const selected = versions.find((v) => v.version === wanted) ?? versions[0];

  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm text-zinc-500">
        <Link href={`/t/${team.slug}/datasets`} className="hover:underline">
          Datasets
        </Link>{" "}
        / <span className="font-mono">{dataset.name}</span>
      </nav>
      <PageHeader
        title={dataset.name}
        subtitle={`${dataset.description ? `${dataset.description} · ` : ""}${dataset.versionCount} version${dataset.versionCount === 1 ? "" : "s"}`}
        actions={dataset.canDelete ? <DeleteDataset dataset={dataset} teamSlug={team.slug} /> : null}
      />
      <div className="space-y-6">
        {dataset.canUpload && (
          <div ref={uploadRef}>
            <UploadPanel datasetId={dataset.id} versions={versions} upload={upload} base={base} onBaseChange={setBase} />
          </div>
        )}
        {versions.length === 0 ? (
          <EmptyState title="No versions yet">
            {dataset.canUpload ? "Upload the first one above." : "A member of this team can upload one."}
          </EmptyState>
        ) : (
          <VersionList versions={versions} selected={selected} onSelect={(v) => setParams({ v: String(v) })} />
        )}
        {selected && (
          <VersionPanel
            key={selected.id}
            summary={selected}
            versions={versions}
            team={team}
            tab={(TABS as readonly string[]).includes(search.get("tab") ?? "") ? (search.get("tab") as Tab) : null}
            onTab={(t) => setParams({ tab: t })}
            onBase={(v) => {
              setBase(v);
              uploadRef.current?.scrollIntoView({ behavior: "smooth", block: "start" });
            }}
            canUpload={dataset.canUpload}
            onChanged={refresh}
            onCancelUpload={(id) => void upload.cancel(id)}
          />
        )}
      </div>
    </>
  );
}

function VersionList({
  versions,
  selected,
  onSelect,
}: {
  versions: DatasetVersionSummary[];
  selected: DatasetVersionSummary | undefined;
  onSelect: (version: number) => void;
}) {
  return (
    <section aria-labelledby="versions-title">
      <h2 id="versions-title" className="mb-2 font-semibold">
        Versions
      </h2>
      <ul className="space-y-2" aria-label="Versions">
        {versions.map((v) => (
          <li key={v.id}>
            <button
              type="button"
              onClick={() => onSelect(v.version)}
              aria-current={selected?.id === v.id || undefined}
              className={clsx(
                "flex w-full flex-wrap items-center gap-x-4 gap-y-1 rounded-lg border px-3 py-2 text-left text-sm shadow-sm transition-colors",
                selected?.id === v.id
                  ? "border-indigo-400 bg-indigo-50 dark:border-indigo-500 dark:bg-indigo-950/40"
                  : "border-zinc-200 bg-white hover:bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-900 dark:hover:bg-zinc-800",
              )}
            >
              <span className="w-10 font-mono font-semibold">v{v.version}</span>
              <VersionStatusBadge status={v.status} archived={v.archived} />
              <span className="text-zinc-600 dark:text-zinc-400">{v.task ?? "—"}</span>
              <span className="text-zinc-600 tabular-nums dark:text-zinc-400">
                {v.fileCount != null ? `${v.fileCount.toLocaleString()} files` : v.uploadName ? v.uploadName : ""}
                {v.totalBytes != null ? ` · ${formatBytes(v.totalBytes)}` : v.uploadSize != null ? ` · ${formatBytes(v.uploadSize)}` : ""}
              </span>
              {v.errors != null && (
                <span className={clsx("tabular-nums", v.errors ? "text-red-700 dark:text-red-400" : "text-zinc-500")}>
                  {v.errors} errors · {v.warnings ?? 0} warnings
                </span>
              )}
              {v.parentVersion != null && <span className="text-zinc-500">from v{v.parentVersion}</span>}
              <span className="ml-auto text-xs text-zinc-500">
                {v.createdBy?.name ?? v.createdBy?.email ?? "someone"} · {timeAgo(v.createdAt)}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function CopyRef({ value }: { value: string }) {
  return (
    <span className="inline-flex max-w-full items-center gap-1 rounded bg-zinc-100 py-0.5 pr-0.5 pl-2 font-mono text-xs dark:bg-zinc-800">
      <span className="truncate" data-testid="version-ref">
        {value}
      </span>
      <button
        type="button"
        className="rounded px-1.5 py-0.5 font-sans text-zinc-600 hover:bg-zinc-200 dark:text-zinc-300 dark:hover:bg-zinc-700"
        onClick={() =>
          navigator.clipboard.writeText(value).then(
            () => toast.success("Copied"),
            () => toast.error("Could not copy: select the text instead"),
          )
        }
      >
        Copy
      </button>
    </span>
  );
}

const STATUS_NOTE: Record<string, string> = {
  UPLOADING: "Waiting for the archive: its parts go straight to the object store.",
  VALIDATING: "A worker is checking every image and label file…",
};

function VersionPanel({
  summary,
  versions,
  team,
  tab,
  onTab,
  onBase,
  canUpload,
  onChanged,
  onCancelUpload,
}: {
  summary: DatasetVersionSummary;
  versions: DatasetVersionSummary[];
  team: Team;
  tab: Tab | null;
  onTab: (t: Tab) => void;
  onBase: (version: number) => void;
  canUpload: boolean;
  onChanged: () => void;
  onCancelUpload: (versionId: string) => void;
}) {
  const version = useQuery({
    // The status is in the key: a live change (VALIDATING → READY) reads the report and stats anew.
    queryKey: ["dataset-version", summary.id, summary.status, summary.archived],
    queryFn: () => api<{ version: DatasetVersionDetail }>(`/api/v1/dataset-versions/${summary.id}`).then((r) => r.version),
  });
  const [filter, setFilter] = useState<GalleryFilter>({ split: "", classId: "", errors: false });
  const v = version.data;
  const settled = summary.status === "READY" || summary.status === "INVALID";
  const current: Tab = tab ?? "report";
  return (
    <Card>
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0 space-y-1">
          <h2 className="flex flex-wrap items-center gap-2 text-lg font-semibold">
            <span className="font-mono break-all">{summary.label}</span>
            <VersionStatusBadge status={summary.status} archived={summary.archived} />
          </h2>
          <CopyRef value={summary.ref} />
          <p className="text-sm text-zinc-500">
            {[
              summary.task,
              summary.fileCount != null && `${summary.fileCount.toLocaleString()} files`,
              summary.totalBytes != null && formatBytes(summary.totalBytes),
              summary.classNames && `${summary.classNames.length} classes`,
              summary.parentVersion != null && `made from v${summary.parentVersion}`,
              summary.validatedAt && `checked ${timeAgo(summary.validatedAt)}`,
            ]
              .filter(Boolean)
              .join(" · ")}
          </p>
          {summary.status === "READY" && !summary.archived && (
            <p className="text-sm text-zinc-600 dark:text-zinc-400">
              Train from it: pick <span className="font-mono">{summary.label}</span> as the dataset in a project&apos;s{" "}
              <Link href={`/t/${team.slug}`} className="text-indigo-600 hover:underline dark:text-indigo-400">
                New training job
              </Link>{" "}
              form, or set <span className="font-mono">data: {summary.ref}</span>.
            </p>
          )}
        </div>
        <VersionActions
          summary={summary}
          canUpload={canUpload}
          canDelete={v?.canDelete ?? false}
          onBase={onBase}
          onChanged={onChanged}
          onCancelUpload={onCancelUpload}
        />
      </div>
      {!settled ? (
        <p className="mt-4 flex items-center gap-2 text-sm text-zinc-600 dark:text-zinc-400" role="status">
          <span className="size-2 animate-pulse rounded-full bg-indigo-500" aria-hidden />
          {STATUS_NOTE[summary.status]}
        </p>
      ) : (
        <>
          {summary.status === "INVALID" && (
            <p role="alert" className="mt-4 text-sm text-red-700 dark:text-red-400">
              Not trainable{summary.failureReason ? `: ${summary.failureReason}` : ": see the errors in the report"}. It is kept with its
              report.
            </p>
          )}
          <div
            role="tablist"
            aria-label="Version views"
            className="mt-4 flex gap-1 overflow-x-auto border-b border-zinc-200 dark:border-zinc-800"
          >
            {TABS.map((t) => (
              <button
                key={t}
                type="button"
                role="tab"
                id={`tab-${t}`}
                aria-selected={current === t}
                aria-controls={`panel-${t}`}
                onClick={() => onTab(t)}
                className={clsx(
                  "-mb-px shrink-0 border-b-2 px-3 py-2 text-sm font-medium",
                  current === t
                    ? "border-indigo-500 text-zinc-900 dark:text-zinc-50"
                    : "border-transparent text-zinc-500 hover:text-zinc-800 dark:hover:text-zinc-200",
                )}
              >
                {TAB_LABELS[t]}
                {t === "jobs" && ` (${summary.jobCount})`}
              </button>
            ))}
          </div>
          <div role="tabpanel" id={`panel-${current}`} aria-labelledby={`tab-${current}`} className="pt-4">
            {version.isPending ? (
              <p className="text-sm text-zinc-500">Loading…</p>
            ) : version.isError || !v ? (
              <p className="text-sm text-red-600">Could not load the version: {version.error?.message}</p>
            ) : current === "report" ? (
              v.report ? (
                <ReportView report={v.report} />
              ) : (
                <p className="text-sm text-zinc-500">No report.</p>
              )
            ) : current === "stats" ? (
              v.stats ? (
                <StatsCharts stats={v.stats} task={v.task} />
              ) : (
                <p className="text-sm text-zinc-500">No statistics: the archive could not be read.</p>
              )
            ) : current === "preview" ? (
              <PreviewGallery
                versionId={v.id}
                splits={splitOrder(Object.keys(v.counts.imagesPerSplit))}
                classNames={v.classNames ?? []}
                filter={filter}
                onFilter={setFilter}
              />
            ) : current === "compare" ? (
              <DiffView version={summary} versions={versions} />
            ) : (
              <JobsList version={v} team={team} />
            )}
          </div>
        </>
      )}
    </Card>
  );
}

function JobsList({ version, team }: { version: DatasetVersionDetail; team: Team }) {
  if (!version.jobs.length) return <p className="text-sm text-zinc-500">No job has trained from {version.label} yet.</p>;
  return (
    <>
      <ul className="divide-y divide-zinc-100 dark:divide-zinc-800" aria-label="Jobs that used this version">
        {version.jobs.map((j) => (
          <li key={j.id} className="flex flex-wrap items-center gap-3 py-2 text-sm">
            <Link
              href={`/t/${team.slug}/p/${j.project.slug}/jobs/${j.id}`}
              className="font-medium text-indigo-600 hover:underline dark:text-indigo-400"
            >
              {j.name}
            </Link>
            <JobStatusBadge status={j.status as JobStatus} />
            <span className="text-zinc-500">{j.project.name}</span>
            <span className="ml-auto text-xs text-zinc-500">{timeAgo(j.createdAt)}</span>
          </li>
        ))}
      </ul>
      {version.jobCount > version.jobs.length && (
        <p className="mt-2 text-xs text-zinc-500">
          The newest {version.jobs.length} of {version.jobCount} jobs.
        </p>
      )}
    </>
  );
}

function VersionActions({
  summary,
  canUpload,
  canDelete,
  onBase,
  onChanged,
  onCancelUpload,
}: {
  summary: DatasetVersionSummary;
  canUpload: boolean;
  canDelete: boolean;
  onBase: (version: number) => void;
  onChanged: () => void;
  onCancelUpload: (versionId: string) => void;
}) {
  const [confirm, setConfirm] = useState<"delete" | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<unknown>, done: string) => {
    setBusy(true);
    try {
      await action();
      toast.success(done);
      setConfirm(null);
      onChanged();
    } catch (err) {
      reportError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="flex flex-wrap gap-2">
      {canUpload && summary.status === "READY" && (
        <Button variant="secondary" onClick={() => onBase(summary.version)}>
          New version from v{summary.version}
        </Button>
      )}
      {canUpload && summary.status === "UPLOADING" && (
        <Button variant="secondary" onClick={() => onCancelUpload(summary.id)}>
          Cancel upload
        </Button>
      )}
      {canDelete && (summary.status === "READY" || summary.status === "INVALID") && (
        <Button
          variant="secondary"
          busy={busy && confirm === null}
          onClick={() =>
            void run(
              () => api(`/api/v1/dataset-versions/${summary.id}`, { method: "PATCH", body: { archived: !summary.archived } }),
              summary.archived ? `${summary.label} is back in the pickers` : `${summary.label} archived: no new jobs can use it`,
            )
          }
        >
          {summary.archived ? "Unarchive" : "Archive"}
        </Button>
      )}
      {canDelete && summary.status !== "UPLOADING" && (
        <Button
          variant="danger"
          disabled={summary.jobCount > 0}
          title={summary.jobCount > 0 ? "Jobs trained from it: archive it instead" : undefined}
          onClick={() => setConfirm("delete")}
        >
          Delete
        </Button>
      )}
      <ConfirmDialog
        open={confirm === "delete"}
        title={`Delete ${summary.label}?`}
        confirmLabel="Delete version"
        busy={busy}
        onClose={() => setConfirm(null)}
        onConfirm={() => void run(() => api(`/api/v1/dataset-versions/${summary.id}`, { method: "DELETE" }), `${summary.label} deleted`)}
      >
        Its report and files go (files another version shares stay). No job has used it.
      </ConfirmDialog>
    </div>
  );
}

function DeleteDataset({ dataset, teamSlug }: { dataset: DatasetDetail; teamSlug: string }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const used = dataset.versions.some((v) => v.jobCount > 0);
  return (
    <>
      <Button
        variant="secondary"
        disabled={used}
        title={used ? "Jobs trained from its versions: archive those instead" : undefined}
        onClick={() => setOpen(true)}
      >
        Delete dataset
      </Button>
      <ConfirmDialog
        open={open}
        title={`Delete ${dataset.name}?`}
        confirmLabel="Delete dataset"
        busy={busy}
        onClose={() => setOpen(false)}
        onConfirm={async () => {
          setBusy(true);
          try {
            await api(`/api/v1/datasets/${dataset.id}`, { method: "DELETE" });
            toast.success(`${dataset.name} deleted`);
            router.push(`/t/${teamSlug}/datasets`);
          } catch (err) {
            reportError(err);
            setBusy(false);
          }
        }}
      >
        All {dataset.versionCount} versions, their reports and files go. This cannot be undone.
      </ConfirmDialog>
    </>
  );
}
