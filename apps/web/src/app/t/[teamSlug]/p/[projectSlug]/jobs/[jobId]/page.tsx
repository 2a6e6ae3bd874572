import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { cache } from "react";
import { projectAccess } from "@/server/access";
import { db } from "@/server/db";
import { orNotFound, requirePageUser } from "@/server/pages";
import { JobView } from "./job-view";

type Params = { teamSlug: string; projectSlug: string; jobId: string };

// One access check and lookup per request, shared by the tab title and the page.
const load = cache(async ({ teamSlug, projectSlug, jobId }: Params) => {
  const base = `/t/${teamSlug}/p/${projectSlug}`;
  const user = await requirePageUser(`${base}/jobs/${jobId}`);
  const { project, team } = await orNotFound(projectAccess(user, { teamSlug, projectSlug }, "job.read"));
  const job = await db.trainingJob.findFirst({ where: { id: jobId, projectId: project.id }, select: { id: true, name: true } });
  if (!job) notFound();
  return { project, team, job, base };
});

export async function generateMetadata({ params }: { params: Promise<Params> }): Promise<Metadata> {
  const { job, project, team } = await load(await params);
  return { title: `${job.name} · ${project.name} · ${team.name}` };
}

export default async function JobPage({ params }: { params: Promise<Params> }) {
  const { project, team, job, base } = await load(await params);
  return (
    <JobView
      jobId={job.id}
      base={base}
      crumbs={{ team: team.name, teamHref: `/t/${team.slug}`, project: project.name, projectHref: base }}
    />
  );
}
