import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { projectAccess } from "@/server/access";
import { db } from "@/server/db";
import { orNotFound, requirePageUser } from "@/server/pages";
import { JobView } from "./job-view";

export const metadata: Metadata = { title: "Training job" };

export default async function JobPage({ params }: { params: Promise<{ teamSlug: string; projectSlug: string; jobId: string }> }) {
  const { teamSlug, projectSlug, jobId } = await params;
  const base = `/t/${teamSlug}/p/${projectSlug}`;
  const user = await requirePageUser(`${base}/jobs/${jobId}`);
  const { project, team } = await orNotFound(projectAccess(user, { teamSlug, projectSlug }, "job.read"));
  const job = await db.trainingJob.findFirst({ where: { id: jobId, projectId: project.id }, select: { id: true } });
  if (!job) notFound();
  return (
    <JobView
      jobId={job.id}
      base={base}
      crumbs={{ team: team.name, teamHref: `/t/${team.slug}`, project: project.name, projectHref: base }}
    />
  );
}
