"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { toast } from "sonner";
import type { ModelsAnswer, ModelVersionView } from "@wyolo/contracts";
import { Card, EmptyState, PageHeader } from "@/components/ui";
import { ProjectTabs } from "@/components/compare/project-tabs";
import { ConfirmDialog } from "@/components/dialog";
import { api } from "@/lib/api";
import { reportError } from "@/lib/form-errors";
import { formatMetric, metricLabel, timeAgo } from "@/lib/format";
import { useLive } from "@/lib/live";
import { AliasDialog } from "./alias-dialog";
import { RegistrySettings } from "./registry-settings";

const CHAMPION = "champion";
export const modelsKey = (projectId: string) => ["models", projectId] as const;

/** A project's registered model: versions newest first, aliases, downloads and links; refetched when a job of the project ends. */
export function ModelsView({
  projectId,
  teamSlug,
  base,
  crumbs,
}: {
  projectId: string;
  teamSlug: string;
  base: string;
  crumbs: { team: string; teamHref: string; project: string };
}) {
  const queryClient = useQueryClient();
  const key = modelsKey(projectId);
  const data = useQuery({
    queryKey: key,
    queryFn: () => api<ModelsAnswer>(`/api/v1/projects/${projectId}/models`),
    // While MLflow still has calls to take, its version numbers arrive without an event.
    refetchInterval: (q) => (q.state.data?.pendingMirrorCalls ? 5_000 : false),
  });
  const resync = () => void queryClient.invalidateQueries({ queryKey: key });
  useLive({ projectId }, { "job:updated": (patch) => patch.status === "SUCCEEDED" && resync() }, resync);
  const [aliasFor, setAliasFor] = useState<ModelVersionView | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const remove = useMutation({
    mutationFn: (alias: string) => api(`/api/v1/projects/${projectId}/models/aliases/${encodeURIComponent(alias)}`, { method: "DELETE" }),
    onSuccess: (_d, alias) => {
      toast.success(`Alias ${alias} removed`);
      setRemoving(null);
      resync();
    },
    onError: (err) => (setRemoving(null), reportError(err)),
  });

  const m = data.data;
  const champion = m?.aliases.find((a) => a.alias === CHAMPION) ?? null;
  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm text-zinc-500">
        <Link href={crumbs.teamHref} className="hover:underline">
          {crumbs.team}
        </Link>{" "}
        /{" "}
        <Link href={base} className="hover:underline">
          {crumbs.project}
        </Link>{" "}
        / <span aria-current="page">Models</span>
      </nav>
      <PageHeader
        title="Models"
        subtitle={
          m ? (
            <span className="wrap-anywhere">
              Registered model <code className="font-mono text-zinc-700 dark:text-zinc-300">{m.settings.effectiveName}</code>
              {m.versions.length ? ` · ${m.versions.length} version${m.versions.length === 1 ? "" : "s"}` : ""}
              {m.pendingMirrorCalls > 0 && m.mlflow.uiUrl ? ` · ${m.pendingMirrorCalls} change(s) on their way to MLflow` : ""}
            </span>
          ) : undefined
        }
      />
      <ProjectTabs base={base} current="models" />
      {data.isPending ? (
        <p className="text-sm text-zinc-500">Loading…</p>
      ) : data.isError || !m ? (
        <p role="alert" className="text-sm text-red-600">
          Could not load the models.{" "}
          <button className="underline" onClick={resync}>
            Try again
          </button>
        </p>
      ) : (
        <div className="space-y-6">
          {m.aliases.length > 0 && (
            <Card>
              <h2 className="mb-3 font-semibold">Aliases</h2>
              <ul className="flex flex-wrap gap-2" aria-label="Aliases">
                {m.aliases.map((a) => (
                  <li
                    key={a.alias}
                    className="flex items-center gap-1 rounded-full bg-indigo-50 py-1 pr-1 pl-3 text-sm dark:bg-indigo-950/50"
                  >
                    <span className="font-medium text-indigo-800 dark:text-indigo-200">{a.alias}</span>
                    <span className="text-zinc-500">→ v{a.version}</span>
                    {m.can.alias && (
                      <button
                        type="button"
                        onClick={() => setRemoving(a.alias)}
                        aria-label={`Remove alias ${a.alias}`}
                        className="ml-1 rounded-full px-1.5 text-zinc-500 hover:bg-indigo-100 hover:text-zinc-900 dark:hover:bg-indigo-900 dark:hover:text-zinc-100"
                      >
                        ×
                      </button>
                    )}
                  </li>
                ))}
              </ul>
            </Card>
          )}
          {m.versions.length === 0 ? (
            <EmptyState title="No versions yet">
              {m.settings.registerModels
                ? "When a job of this project succeeds, its best.pt becomes a version here (sweep trials excepted)."
                : "Registering is off for this project: turn it on below, and the next succeeded job becomes version 1."}
            </EmptyState>
          ) : (
            <Card className="p-0">
              {/* relative: the sr-only caption and header (position: absolute) stay inside the scroll box, not beside the page */}
              <div className="relative overflow-x-auto">
                <table className="w-full min-w-[44rem] text-left text-sm">
                  <caption className="sr-only">Versions of {m.settings.effectiveName}, newest first</caption>
                  <thead className="border-b border-zinc-200 text-xs tracking-wide text-zinc-500 uppercase dark:border-zinc-800">
                    <tr>
                      <th scope="col" className="px-4 py-3">
                        Version
                      </th>
                      <th scope="col" className="px-4 py-3">
                        Metric
                      </th>
                      <th scope="col" className="px-4 py-3">
                        Dataset
                      </th>
                      <th scope="col" className="px-4 py-3">
                        Job
                      </th>
                      <th scope="col" className="px-4 py-3">
                        Created
                      </th>
                      <th scope="col" className="px-4 py-3">
                        <span className="sr-only">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
                    {m.versions.map((v) => (
                      <VersionRow
                        key={v.id}
                        v={v}
                        base={base}
                        teamSlug={teamSlug}
                        championJobId={champion && champion.versionId !== v.id ? champion.jobId : null}
                        canAlias={m.can.alias}
                        onAlias={() => setAliasFor(v)}
                      />
                    ))}
                  </tbody>
                </table>
              </div>
            </Card>
          )}
          {m.can.settings && <RegistrySettings projectId={projectId} settings={m.settings} onSaved={resync} />}
        </div>
      )}
      {m && (
        <AliasDialog
          projectId={projectId}
          version={aliasFor}
          existing={m.aliases.map((a) => a.alias)}
          onClose={() => setAliasFor(null)}
          onSet={resync}
        />
      )}
      <ConfirmDialog
        open={removing !== null}
        title={`Remove alias ${removing ?? ""}?`}
        confirmLabel="Remove alias"
        busy={remove.isPending}
        onConfirm={() => removing && remove.mutate(removing)}
        onClose={() => setRemoving(null)}
      >
        Anything that loads <code>{`models:/${m?.settings.effectiveName ?? ""}@${removing ?? ""}`}</code> will stop finding it.
      </ConfirmDialog>
    </>
  );
}

function VersionRow({
  v,
  base,
  teamSlug,
  championJobId,
  canAlias,
  onAlias,
}: {
  v: ModelVersionView;
  base: string;
  teamSlug: string;
  championJobId: string | null;
  canAlias: boolean;
  onAlias: () => void;
}) {
  const linkClass = "text-indigo-600 hover:underline dark:text-indigo-400";
  return (
    <tr className="align-top">
      <th scope="row" className="px-4 py-3 font-medium whitespace-nowrap">
        <span className="font-mono">v{v.version}</span>
        {v.aliases.map((a) => (
          <span
            key={a}
            className="ml-2 rounded-full bg-indigo-100 px-2 py-0.5 text-xs font-semibold text-indigo-800 dark:bg-indigo-900/60 dark:text-indigo-200"
          >
            {a}
          </span>
        ))}
        {v.mlflowVersion && <div className="mt-1 text-xs font-normal text-zinc-500">MLflow v{v.mlflowVersion}</div>}
      </th>
      <td className="px-4 py-3 whitespace-nowrap">
        {v.bestMetricName ? (
          <>
            <span className="font-mono">{formatMetric(v.bestMetric)}</span>{" "}
            <span className="text-xs text-zinc-500">{metricLabel(v.bestMetricName)}</span>
          </>
        ) : (
          "—"
        )}
        {v.lineage.bestEpoch !== null && <div className="text-xs text-zinc-500">epoch {v.lineage.bestEpoch}</div>}
      </td>
      <td className="max-w-[12rem] px-4 py-3 break-all">
        {v.dataset ?? "—"}
        <div className="font-mono text-xs text-zinc-500" title={`Config sha256 ${v.configHash}`}>
          config {v.configHash.slice(0, 10)}
        </div>
      </td>
      <td className="max-w-[14rem] px-4 py-3">
        {v.job ? (
          <Link href={`${base}/jobs/${v.job.id}`} className={`${linkClass} wrap-anywhere`}>
            {v.job.name}
          </Link>
        ) : (
          <span className="text-zinc-500">deleted job</span>
        )}
        <div className="text-xs text-zinc-500">
          {v.lineage.model} · {v.lineage.task}
        </div>
      </td>
      <td className="px-4 py-3 whitespace-nowrap">
        <time dateTime={v.createdAt} title={v.createdAt}>
          {timeAgo(v.createdAt)}
        </time>
        {v.createdBy && <div className="text-xs text-zinc-500">by {v.createdBy.name}</div>}
      </td>
      <td className="px-4 py-3">
        <div className="flex flex-wrap justify-end gap-x-3 gap-y-1 text-sm">
          {v.artifactId && v.job && (
            <a
              href={`/api/v1/jobs/${v.job.id}/artifacts/${v.artifactId}/download`}
              className={linkClass}
              aria-label={`Download best.pt of v${v.version}`}
            >
              Download
            </a>
          )}
          {v.job && (
            <Link href={`${base}/jobs/${v.job.id}#exports`} className={linkClass} aria-label={`Export v${v.version}`}>
              Export
            </Link>
          )}
          {v.job && championJobId && (
            <Link href={`/t/${teamSlug}/compare?jobs=${v.job.id},${championJobId}`} className={linkClass}>
              Compare with champion
            </Link>
          )}
          {canAlias && (
            <button type="button" onClick={onAlias} className={linkClass} aria-label={`Set an alias on v${v.version}`}>
              Set alias
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}
