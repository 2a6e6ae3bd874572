import type { Metadata } from "next";
import Link from "next/link";
import { can } from "@wyolo/contracts";
import { projectAccess } from "@/server/access";
import { orNotFound, requirePageUser } from "@/server/pages";
import { Card, EmptyState, PageHeader, RoleBadge } from "@/components/ui";

export const metadata: Metadata = { title: "Project" };

export default async function ProjectPage({ params }: { params: Promise<{ teamSlug: string; projectSlug: string }> }) {
  const { teamSlug, projectSlug } = await params;
  const user = await requirePageUser(`/t/${teamSlug}/p/${projectSlug}`);
  const { project, team, role } = await orNotFound(projectAccess(user, { teamSlug, projectSlug }, "project.read"));
  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm text-zinc-500">
        <Link href={`/t/${team.slug}`} className="hover:underline">
          {team.name}
        </Link>{" "}
        / <span aria-current="page">{project.name}</span>
      </nav>
      <PageHeader
        title={project.name}
        subtitle={
          <span className="inline-flex items-center gap-2">
            {project.description || "No description"} · your role <RoleBadge role={role} />
          </span>
        }
      />
      <Card>
        <h2 className="mb-4 text-lg font-semibold">Training jobs</h2>
        <EmptyState title="No training jobs yet">
          {can(role, "job.create")
            ? "Job submission arrives with the training-jobs feature; the queue and workers are being wired up."
            : "Jobs that your team runs in this project will show up here."}
        </EmptyState>
      </Card>
      <dl className="mt-6 grid gap-4 text-sm sm:grid-cols-3">
        <div>
          <dt className="text-zinc-500">Project id</dt>
          <dd className="font-mono">{project.id}</dd>
        </div>
        <div>
          <dt className="text-zinc-500">Slug</dt>
          <dd className="font-mono">{project.slug}</dd>
        </div>
        <div>
          <dt className="text-zinc-500">Created</dt>
          <dd>{project.createdAt.toISOString().slice(0, 10)}</dd>
        </div>
      </dl>
    </>
  );
}
