"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { SWEEP_TERMINAL_STATUSES, type SweepSummary } from "@wyolo/contracts";
import { Button, Card } from "@/components/ui";
import { SubmitJobForm } from "@/components/jobs/submit-job-form";
import { api } from "@/lib/api";
import { timeAgo } from "@/lib/format";
import { useLive } from "@/lib/live";
import { applySweepPatch, sweepsKey } from "@/lib/sweeps";
import { bestLabel, SweepProgress, SweepStatusBadge } from "./sweep-status";

/** The project's sweeps with progress and best value, live over the project's room. */
export function SweepsPanel({ projectId, base, canCreate }: { projectId: string; base: string; canCreate: boolean }) {
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const key = sweepsKey(projectId);
  const sweeps = useQuery({
    queryKey: key,
    queryFn: () => api<{ sweeps: SweepSummary[] }>(`/api/v1/projects/${projectId}/sweeps`).then((r) => r.sweeps),
  });
  const refetch = () => void queryClient.invalidateQueries({ queryKey: key });
  useLive(
    { projectId },
    {
      "sweep:updated": (patch) => {
        if (patch.projectId !== projectId) return;
        const known = queryClient.getQueryData<SweepSummary[]>(key)?.some((s) => s.id === patch.id);
        // A sweep this page has not seen (started elsewhere): fetch the list again.
        if (!known) return refetch();
        queryClient.setQueryData<SweepSummary[]>(key, (list) => list?.map((s) => (s.id === patch.id ? applySweepPatch(s, patch) : s)));
      },
    },
    refetch,
  );

  const rows = sweeps.data ?? [];
  const active = rows.filter((s) => !SWEEP_TERMINAL_STATUSES.includes(s.status)).length;
  return (
    <Card className="mb-6 p-0">
      <div className="flex flex-wrap items-center gap-3 border-b border-zinc-200 p-4 dark:border-zinc-800">
        <h2 className="mr-auto text-lg font-semibold">
          Sweeps {active > 0 && <span className="text-sm font-normal text-zinc-500">· {active} active</span>}
        </h2>
        {canCreate && !creating && (
          <Button variant="secondary" onClick={() => setCreating(true)}>
            New sweep
          </Button>
        )}
      </div>
      {creating && (
        <div className="border-b border-zinc-200 p-4 dark:border-zinc-800">
          <SubmitJobForm projectId={projectId} initialMode="sweep" onDone={() => setCreating(false)} />
          <Button variant="ghost" onClick={() => setCreating(false)}>
            Close
          </Button>
        </div>
      )}
      {sweeps.isPending ? (
        <p className="p-4 text-sm text-zinc-500">Loading sweeps…</p>
      ) : sweeps.isError ? (
        <p className="p-4 text-sm text-red-600">Could not load sweeps: {sweeps.error.message}</p>
      ) : rows.length === 0 ? (
        <p className="p-4 text-sm text-zinc-500">
          {canCreate
            ? "No sweeps yet. A sweep searches hyperparameters with Optuna, each trial a training job: start one with “New sweep”."
            : "No sweeps yet. Hyperparameter sweeps that your team runs in this project show up here, live."}
        </p>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm" aria-label="Sweeps">
            <thead className="border-b border-zinc-200 text-xs uppercase text-zinc-500 dark:border-zinc-800">
              <tr>
                {["Sweep", "Status", "Progress", "Best", "Pruned", "Created"].map((h) => (
                  <th key={h} scope="col" className="px-4 py-3 font-medium">
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => (
                <tr key={s.id} data-sweep-id={s.id} className="border-b border-zinc-100 last:border-0 dark:border-zinc-800">
                  <td className="px-4 py-3 align-top">
                    <Link href={`${base}/sweeps/${s.id}`} className="font-medium text-indigo-700 hover:underline dark:text-indigo-300">
                      {s.name}
                      <span className="block text-xs font-normal text-zinc-500">
                        {s.direction} {s.objective} · {s.sampler}
                      </span>
                    </Link>
                  </td>
                  <td className="px-4 py-3 align-top">
                    <SweepStatusBadge status={s.status} cancelling={!!s.cancelRequestedAt} />
                  </td>
                  <td className="px-4 py-3 align-top">
                    <SweepProgress sweep={s} />
                  </td>
                  <td className="px-4 py-3 align-top tabular-nums">{bestLabel(s)}</td>
                  <td className="px-4 py-3 align-top tabular-nums">{s.counts.pruned}</td>
                  <td className="px-4 py-3 align-top">
                    <time dateTime={s.createdAt}>{timeAgo(s.createdAt)}</time>
                    <span className="block text-xs text-zinc-500">{s.createdBy.name}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
