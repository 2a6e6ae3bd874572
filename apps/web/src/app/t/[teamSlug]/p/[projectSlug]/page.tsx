import type { Metadata } from "next";
import Link from "next/link";
import { can } from "@wyolo/contracts";
import { projectAccess } from "@/server/access";
import { orNotFound, requirePageUser } from "@/server/pages";
import { cache, Suspense } from "react";
import { PageHeader, RoleBadge } from "@/components/ui";
import { JobsPanel } from "@/components/jobs/jobs-panel";
import { SweepsPanel } from "@/components/sweeps/sweeps-panel";
import { ProjectTabs } from "@/components/compare/project-tabs";

type Params = { teamSlug: string; projectSlug: string };

// One access check per request, shared by the tab title and the page.
const load = cache(async ({ teamSlug, projectSlug }: Params) => {
  const user = await requirePageUser(`/t/${teamSlug}/p/${projectSlug}`);
  return orNotFound(projectAccess(user, { teamSlug, projectSlug }, "project.read"));
});

export async function generateMetadata({ params }: { params: Promise<Params> }): Promise<Metadata> {
  const { project, team } = await load(await params);
  return { title: `${project.name} · ${team.name}` };
}

export default async function ProjectPage({ params }: { params: Promise<Params> }) {
  const { project, team, role } = await load(await params);
  const base = `/t/${team.slug}/p/${project.slug}`;
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
      <ProjectTabs base={base} current="jobs" />
      <div id="sweeps" className="scroll-mt-20">
        <SweepsPanel projectId={project.id} base={base} canCreate={can(role, "sweep.create")} />
      </div>
      <div id="jobs" className="scroll-mt-20">
        <Suspense>
          <JobsPanel project={{ id: project.id }} teamId={team.id} teamSlug={team.slug} base={base} canCreate={can(role, "job.create")} />
        </Suspense>
      </div>
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
