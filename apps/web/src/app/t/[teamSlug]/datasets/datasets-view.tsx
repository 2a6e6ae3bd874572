"use client";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import { createDatasetSchema, type CreateDatasetInput, type DatasetListAnswer, type DatasetSummary } from "@wyolo/contracts";
import { Button, EmptyState, Field, Input, PageHeader } from "@/components/ui";
import { FormDialog } from "@/components/dialog";
import { VersionStatusBadge } from "@/components/datasets/version-status";
import { api } from "@/lib/api";
import { reportError } from "@/lib/form-errors";
import { formatBytes, timeAgo } from "@/lib/format";

type Team = { id: string; name: string; slug: string };

export function DatasetsView({ team, canCreate }: { team: Team; canCreate: boolean }) {
  const [creating, setCreating] = useState(false);
  const list = useQuery({
    queryKey: ["datasets", team.id],
    queryFn: () => api<DatasetListAnswer>(`/api/v1/teams/${team.id}/datasets`),
  });
  const usage = list.data?.usage;
  return (
    <>
      <PageHeader
        title="Datasets"
        subtitle={
          usage
            ? `Versioned datasets of ${team.name} · ${formatBytes(usage.usedBytes)} of ${formatBytes(usage.quotaBytes)} used`
            : `Versioned datasets of ${team.name}`
        }
        actions={canCreate ? <Button onClick={() => setCreating(true)}>New dataset</Button> : null}
      />
      <CreateDatasetDialog open={creating} team={team} onClose={() => setCreating(false)} />
      {list.isPending ? (
        <p className="text-sm text-zinc-500">Loading datasets…</p>
      ) : list.isError ? (
        <p className="text-sm text-red-600">Could not load datasets: {list.error.message}</p>
      ) : list.data.datasets.length === 0 ? (
        <EmptyState title="No datasets yet">
          {canCreate
            ? "Create one, then upload a YOLO dataset as a .zip, .tar or .tar.gz, or drop its folder. Each upload is checked on a worker and kept as a version you can train from."
            : "A member of this team can create one."}
        </EmptyState>
      ) : (
        <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-label="Datasets">
          {list.data.datasets.map((d) => (
            <li key={d.id}>
              <DatasetCard team={team} dataset={d} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function DatasetCard({ team, dataset: d }: { team: Team; dataset: DatasetSummary }) {
  return (
    <Link
      href={`/t/${team.slug}/datasets/${d.name}`}
      className="block h-full rounded-lg border border-zinc-200 bg-white p-4 shadow-sm transition hover:border-indigo-400 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:border-zinc-800 dark:bg-zinc-900"
    >
      <p className="font-mono font-semibold break-all">{d.name}</p>
      <p className="mt-1 line-clamp-2 text-sm text-zinc-500">{d.description || "No description"}</p>
      <p className="mt-3 flex flex-wrap items-center gap-2 text-xs text-zinc-500">
        {d.latest ? (
          <>
            <span className="font-mono text-zinc-700 dark:text-zinc-300">{d.latest.label}</span>
            <VersionStatusBadge status={d.latest.status} />
            {d.latest.task && <span>{d.latest.task}</span>}
            {d.latest.fileCount != null && <span>{d.latest.fileCount.toLocaleString()} files</span>}
          </>
        ) : (
          <span>no ready version</span>
        )}
      </p>
      <p className="mt-1 text-xs text-zinc-400">
        {d.versionCount} version{d.versionCount === 1 ? "" : "s"} · updated {timeAgo(d.updatedAt)}
      </p>
    </Link>
  );
}

function CreateDatasetDialog({ open, team, onClose }: { open: boolean; team: Team; onClose: () => void }) {
  const router = useRouter();
  const queryClient = useQueryClient();
  const form = useForm<CreateDatasetInput>({ resolver: zodResolver(createDatasetSchema), defaultValues: { name: "", description: "" } });
  const create = useMutation({
    mutationFn: (values: CreateDatasetInput) => api<{ dataset: DatasetSummary }>(`/api/v1/teams/${team.id}/datasets`, { body: values }),
    onSuccess: async ({ dataset }) => {
      toast.success(`Dataset ${dataset.name} created`);
      // The dataset page finds it by name in this list: read it again first.
      await queryClient.invalidateQueries({ queryKey: ["datasets", team.id] });
      router.push(`/t/${team.slug}/datasets/${dataset.name}`);
    },
    onError: (err) => reportError(err, form.setError),
  });
  const { errors } = form.formState;
  return (
    <FormDialog
      open={open}
      onClose={() => {
        form.reset();
        onClose();
      }}
      title="New dataset"
      submitLabel="Create dataset"
      busy={create.isPending}
      onSubmit={form.handleSubmit((v) => create.mutate(v))}
    >
      <Field id="dataset-name" label="Name" error={errors.name?.message} hint="Jobs name its versions as dataset:<name>@v1">
        <Input
          id="dataset-name"
          autoComplete="off"
          placeholder="shapes"
          aria-invalid={!!errors.name}
          aria-describedby={errors.name ? "dataset-name-error" : undefined}
          {...form.register("name")}
        />
      </Field>
      <Field id="dataset-description" label="Description" error={errors.description?.message}>
        <Input id="dataset-description" aria-invalid={!!errors.description} {...form.register("description")} />
      </Field>
    </FormDialog>
  );
}
