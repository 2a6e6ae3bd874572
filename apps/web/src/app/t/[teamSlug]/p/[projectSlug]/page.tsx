import type { Metadata } from "next";
import Link from "next/link";
import { can } from "@wyolo/contracts";
import { projectAccess } from "@/server/access";
import { orNotFound, requirePageUser } from "@/server/pages";
import { Suspense } from "react";
import { PageHeader, RoleBadge } from "@/components/ui";
import { JobsPanel } from "@/components/jobs/jobs-panel";
import { SweepsPanel } from "@/components/sweeps/sweeps-panel";

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
      <SweepsPanel projectId={project.id} base={`/t/${team.slug}/p/${project.slug}`} canCreate={can(role, "sweep.create")} />
      <Suspense>
        <JobsPanel
          project={{ id: project.id }}
          teamId={team.id}
          base={`/t/${team.slug}/p/${project.slug}`}
          canCreate={can(role, "job.create")}
        />
      </Suspense>
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
