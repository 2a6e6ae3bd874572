"use client";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import { stringify as toYaml } from "yaml";
import type { z } from "zod";
import { addTrialsSchema, SWEEP_TERMINAL_STATUSES, type JobSummary, type SweepDetail, type SweepSummary } from "@wyolo/contracts";
import { Button, Card, Input, PageHeader } from "@/components/ui";
import { ConfirmDialog } from "@/components/dialog";
import { IntermediateValues, Importances, OptimizationHistory, ParallelCoordinates } from "@/components/sweeps/sweep-charts";
import { bestLabel, SweepProgress, SweepStatusBadge } from "@/components/sweeps/sweep-status";
import { TrialsTable } from "@/components/sweeps/trials-table";
import { api } from "@/lib/api";
import { reportError } from "@/lib/form-errors";
import { formatDuration, jobDuration } from "@/lib/format";
import { useLive } from "@/lib/live";
import { applySweepPatch, applyTrialPatch, formatParam, sweepKey } from "@/lib/sweeps";

const PRUNER_NAMES: Record<SweepSummary["pruner"], string> = {
  successive_halving: "successive halving",
  hyperband: "hyperband",
  median: "median",
  none: "no",
};

/** A sweep, live: summary and trials from the API, patched by `sweep:updated` and `sweep:trial`, refetched on (re)join. */
export function SweepView({
  sweepId,
  base,
  permissions,
  crumbs,
}: {
  sweepId: string;
  base: string;
  permissions: { update: boolean; trainBest: boolean };
  crumbs: { team: string; teamHref: string; project: string; projectHref: string };
}) {
  const queryClient = useQueryClient();
  const router = useRouter();
  const key = sweepKey(sweepId);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [adding, setAdding] = useState(false);
  const detail = useQuery({ queryKey: key, queryFn: () => api<SweepDetail>(`/api/v1/sweeps/${sweepId}`) });
  const resync = () => void queryClient.invalidateQueries({ queryKey: key });
  useLive(
    { sweepId },
    {
      "sweep:updated": (patch) => {
        if (patch.id !== sweepId) return;
        queryClient.setQueryData<SweepDetail>(key, (d) => d && applySweepPatch(d, patch));
        // The advance step writes best, importances and trial states before it announces an end.
        if (patch.status && SWEEP_TERMINAL_STATUSES.includes(patch.status)) resync();
        if (patch.bestTrialNumber !== undefined && !("importances" in patch)) resync();
      },
      "sweep:trial": (patch) => {
        if (patch.sweepId !== sweepId) return;
        const d = queryClient.getQueryData<SweepDetail>(key);
        const known = d?.trials.some((t) => t.number === patch.number);
        if (!known && !("jobId" in patch && patch.jobId)) return resync();
        queryClient.setQueryData<SweepDetail>(key, (cur) => cur && applyTrialPatch(cur, patch));
      },
    },
    resync,
  );

  const cancel = useMutation({
    mutationFn: () => api<{ sweep: SweepSummary }>(`/api/v1/sweeps/${sweepId}/cancel`, { method: "POST" }),
    onSuccess: () => {
      setConfirmCancel(false);
      toast.success("Cancelling: queued trials are dropped, running ones stop at their next epoch boundary");
      resync();
    },
    onError: (err) => (setConfirmCancel(false), reportError(err)),
  });
  const trainBest = useMutation({
    mutationFn: () => api<{ job: JobSummary }>(`/api/v1/sweeps/${sweepId}/train-best`, { method: "POST" }),
    onSuccess: ({ job }) => {
      toast.success(`Training the best arguments as “${job.name}”`);
      router.push(`${base}/jobs/${job.id}`);
    },
    onError: (err) => reportError(err),
  });

  if (detail.isPending) return <p className="text-sm text-zinc-500">Loading sweep…</p>;
  if (detail.isError) return <p className="text-sm text-red-600">Could not load the sweep: {detail.error.message}</p>;
  const sweep = detail.data;
  const ended = SWEEP_TERMINAL_STATUSES.includes(sweep.status);
  const best = sweep.trials.find((t) => t.number === sweep.bestTrialNumber);

  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm text-zinc-500">
        <Link href={crumbs.teamHref} className="hover:underline">
          {crumbs.team}
        </Link>{" "}
        /{" "}
        <Link href={crumbs.projectHref} className="hover:underline">
          {crumbs.project}
        </Link>{" "}
        / <span aria-current="page">{sweep.name}</span>
      </nav>
      <PageHeader
        title={sweep.name}
        subtitle={
          <span className="inline-flex flex-wrap items-center gap-x-2 gap-y-1">
            <SweepStatusBadge status={sweep.status} cancelling={!!sweep.cancelRequestedAt} /> Sweep · {sweep.direction} {sweep.objective} ·{" "}
            {sweep.sampler} · {PRUNER_NAMES[sweep.pruner]} pruner · {sweep.config.model} · by {sweep.createdBy.name}
          </span>
        }
        actions={
          (permissions.update || permissions.trainBest) && (
            <div className="flex flex-wrap gap-2">
              {permissions.trainBest && sweep.bestTrialNumber != null && (
                <Button busy={trainBest.isPending} onClick={() => trainBest.mutate()}>
                  Train the best
                </Button>
              )}
              {permissions.update && (
                <Button variant="secondary" onClick={() => setAdding((v) => !v)} aria-expanded={adding}>
                  Add trials
                </Button>
              )}
              {permissions.update && !ended && (
                <Button variant="danger" disabled={!!sweep.cancelRequestedAt} onClick={() => setConfirmCancel(true)}>
                  {sweep.cancelRequestedAt ? "Cancelling…" : "Cancel"}
                </Button>
              )}
            </div>
          )
        }
      />
      {permissions.update && adding && <AddTrialsForm sweepId={sweepId} onDone={() => (setAdding(false), resync())} />}
      <ConfirmDialog
        open={confirmCancel}
        title="Cancel this sweep?"
        confirmLabel="Cancel the sweep"
        busy={cancel.isPending}
        onConfirm={() => cancel.mutate()}
        onClose={() => setConfirmCancel(false)}
      >
        Queued trials are dropped and running ones stop at their next epoch boundary. Finished trials and the study stay; “Add trials”
        continues it later.
      </ConfirmDialog>

      {sweep.status === "FAILED" && sweep.failureReason && (
        <Card className="mb-6 border-red-300 dark:border-red-900">
          <h2 className="font-semibold text-red-700 dark:text-red-400">Failed</h2>
          <p className="mt-1 text-sm">{sweep.failureReason}</p>
        </Card>
      )}

      <div className="mb-6 grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-5">
        <Card className="lg:col-span-2">
          <p className="mb-2 text-xs uppercase text-zinc-500">Progress</p>
          <SweepProgress sweep={sweep} />
        </Card>
        <Stat
          label={`Best ${sweep.objective.replace(/^metrics\//, "")}`}
          value={sweep.bestValue == null ? "—" : sweep.bestValue.toFixed(4)}
          testId="sweep-best"
          hint={
            best ? (
              <Link href={`${base}/jobs/${best.jobId}`} className="hover:underline">
                trial {best.number} ↗
              </Link>
            ) : (
              bestLabel(sweep)
            )
          }
        />
        <Stat
          label="Pruned"
          value={String(sweep.counts.pruned)}
          hint={`${sweep.counts.complete} complete · ${sweep.counts.failed} failed`}
          testId="sweep-pruned"
        />
        <Stat
          label="Duration"
          value={formatDuration(jobDuration(sweep))}
          hint={`${sweep.parallel} at once${sweep.deadlineAt ? ` · no new trial after ${new Date(sweep.deadlineAt).toLocaleString()}` : ""}`}
        />
      </div>

      <div className="mb-6 grid grid-cols-1 gap-4 lg:grid-cols-2">
        <OptimizationHistory sweep={sweep} />
        <IntermediateValues sweep={sweep} />
        <ParallelCoordinates sweep={sweep} />
        <Importances sweep={sweep} />
      </div>

      <div className="mb-6">
        <TrialsTable sweep={sweep} base={base} />
      </div>

      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <Card>
          <h2 className="mb-3 font-semibold">Search space</h2>
          <ul className="space-y-1 font-mono text-xs" aria-label="Search space">
            {Object.entries(sweep.settings.search_space).map(([name, p]) => (
              <li key={name}>
                <span className="font-semibold">{name}</span>{" "}
                <span className="text-zinc-500">
                  {p.type === "categorical"
                    ? `one of ${p.choices.map(formatParam).join(", ")}`
                    : `${p.type} ${formatParam(p.low)} – ${formatParam(p.high)}${p.log ? " (log)" : ""}`}
                </span>
              </li>
            ))}
          </ul>
          <p className="mt-3 text-xs text-zinc-500">
            grace period {sweep.settings.grace_period} epoch{sweep.settings.grace_period === 1 ? "" : "s"} · {sweep.config.train.epochs}{" "}
            epochs per trial{sweep.settings.seed != null ? ` · seed ${sweep.settings.seed}` : ""}
            {sweep.mlflowRunId ? ` · MLflow parent run ${sweep.mlflowRunId}` : ""}
          </p>
        </Card>
        <Card>
          <h2 className="mb-3 font-semibold">Base config</h2>
          <pre className="max-h-96 overflow-auto rounded bg-zinc-50 p-3 text-xs dark:bg-zinc-950">{toYaml(sweep.config)}</pre>
        </Card>
      </div>
    </>
  );
}

type AddTrials = z.input<typeof addTrialsSchema>;

function AddTrialsForm({ sweepId, onDone }: { sweepId: string; onDone: () => void }) {
  const form = useForm<AddTrials>({ resolver: zodResolver(addTrialsSchema), defaultValues: { count: 5 } });
  const add = useMutation({
    mutationFn: (v: AddTrials) => api<{ sweep: SweepSummary }>(`/api/v1/sweeps/${sweepId}/trials`, { body: v }),
    onSuccess: (_res, v) => {
      toast.success(`${v.count} more trial${v.count === 1 ? "" : "s"} in the same study`);
      onDone();
    },
    onError: (err) => reportError(err, form.setError),
  });
  const error = form.formState.errors.count?.message;
  return (
    <Card className="mb-6">
      <form
        aria-label="Add trials"
        noValidate
        onSubmit={form.handleSubmit((v) => add.mutate(v))}
        className="flex flex-wrap items-end gap-3"
      >
        <div className="space-y-1">
          <label htmlFor="add-count" className="block text-sm font-medium">
            More trials
          </label>
          <Input
            id="add-count"
            type="number"
            min={1}
            max={1000}
            className="w-28"
            aria-invalid={!!error}
            aria-describedby={error ? "add-count-error" : undefined}
            {...form.register("count", { valueAsNumber: true })}
          />
        </div>
        <Button type="submit" busy={add.isPending}>
          Add to the study
        </Button>
        <p className="basis-full text-xs text-zinc-500">
          The same study goes on: Optuna’s sampler uses every trial so far. A finished sweep runs again.
        </p>
        {error && (
          <p id="add-count-error" role="alert" className="basis-full text-xs text-red-600 dark:text-red-400">
            {error}
          </p>
        )}
      </form>
    </Card>
  );
}

function Stat({ label, value, hint, testId }: { label: string; value: string; hint?: React.ReactNode; testId?: string }) {
  return (
    <Card>
      <p className="text-xs uppercase text-zinc-500">{label}</p>
      <p className="mt-1 text-xl font-semibold tabular-nums" data-testid={testId}>
        {value}
      </p>
      {hint && <p className="text-xs text-zinc-500">{hint}</p>}
    </Card>
  );
}
