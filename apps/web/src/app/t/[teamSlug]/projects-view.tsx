"use client";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import { createProjectSchema, type CreateProjectInput, type Role } from "@wyolo/contracts";
import { Button, Card, EmptyState, Field, Input, PageHeader, RoleBadge } from "@/components/ui";
import { api } from "@/lib/api";
import { reportError } from "@/lib/form-errors";

type Project = { id: string; name: string; slug: string; description: string; jobCount: number; createdAt: string };

export function ProjectsView({
  team,
  role,
  canCreate,
}: {
  team: { id: string; name: string; slug: string };
  role: Role;
  canCreate: boolean;
}) {
  const [creating, setCreating] = useState(false);
  const projects = useQuery({
    queryKey: ["projects", team.id],
    queryFn: () => api<{ projects: Project[] }>(`/api/v1/teams/${team.id}/projects`).then((r) => r.projects),
  });
  return (
    <>
      <PageHeader
        title={team.name}
        subtitle={
          <span className="inline-flex items-center gap-2">
            Projects · your role <RoleBadge role={role} />
          </span>
        }
        actions={canCreate && !creating ? <Button onClick={() => setCreating(true)}>New project</Button> : null}
      />
      {creating && <NewProjectForm teamId={team.id} teamSlug={team.slug} onDone={() => setCreating(false)} />}
      {projects.isPending ? (
        <p className="text-sm text-zinc-500">Loading projects…</p>
      ) : projects.isError ? (
        <p className="text-sm text-red-600">Could not load projects: {projects.error.message}</p>
      ) : projects.data.length === 0 ? (
        <EmptyState title="No projects yet">
          {canCreate ? "Create the first project to start training." : "An admin of this team can create one."}
        </EmptyState>
      ) : (
        <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-label="Projects">
          {projects.data.map((p) => (
            <li key={p.id}>
              <Link
                href={`/t/${team.slug}/p/${p.slug}`}
                className="block h-full rounded-lg border border-zinc-200 bg-white p-4 shadow-sm transition hover:border-indigo-400 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:border-zinc-800 dark:bg-zinc-900"
              >
                <p className="font-semibold">{p.name}</p>
                <p className="mt-1 line-clamp-2 text-sm text-zinc-500">{p.description || "No description"}</p>
                <p className="mt-3 text-xs text-zinc-400">
                  {p.jobCount} job{p.jobCount === 1 ? "" : "s"} · /{p.slug}
                </p>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function NewProjectForm({ teamId, teamSlug, onDone }: { teamId: string; teamSlug: string; onDone: () => void }) {
  const router = useRouter();
  const queryClient = useQueryClient();
  const form = useForm<CreateProjectInput>({ resolver: zodResolver(createProjectSchema), defaultValues: { name: "", description: "" } });
  const create = useMutation({
    mutationFn: (values: CreateProjectInput) => api<{ project: Project }>(`/api/v1/teams/${teamId}/projects`, { body: values }),
    onSuccess: ({ project }) => {
      toast.success(`Project ${project.name} created`);
      void queryClient.invalidateQueries({ queryKey: ["projects", teamId] });
      router.push(`/t/${teamSlug}/p/${project.slug}`);
    },
    onError: (err) => reportError(err, form.setError),
  });
  const { errors } = form.formState;
  return (
    <Card className="mb-6">
      <form onSubmit={form.handleSubmit((v) => create.mutate(v))} className="grid gap-4 sm:grid-cols-2" noValidate>
        <Field id="project-name" label="Name" error={errors.name?.message}>
          <Input id="project-name" autoFocus aria-invalid={!!errors.name} {...form.register("name")} />
        </Field>
        <Field id="project-slug" label="Slug (optional)" error={errors.slug?.message} hint="Used in URLs and the MLflow experiment name">
          <Input id="project-slug" placeholder="derived from the name" aria-invalid={!!errors.slug} {...form.register("slug")} />
        </Field>
        <div className="sm:col-span-2">
          <Field id="project-description" label="Description" error={errors.description?.message}>
            <Input id="project-description" {...form.register("description")} />
          </Field>
        </div>
        <div className="flex gap-2 sm:col-span-2">
          <Button type="submit" busy={create.isPending}>
            Create project
          </Button>
          <Button type="button" variant="secondary" onClick={onDone}>
            Cancel
          </Button>
        </div>
      </form>
    </Card>
  );
}
