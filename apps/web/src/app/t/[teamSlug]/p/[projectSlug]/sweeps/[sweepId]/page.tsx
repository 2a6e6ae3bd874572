import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { cache } from "react";
import { can } from "@wyolo/contracts";
import { projectAccess } from "@/server/access";
import { db } from "@/server/db";
import { orNotFound, requirePageUser } from "@/server/pages";
import { SweepView } from "./sweep-view";

type Params = { teamSlug: string; projectSlug: string; sweepId: string };

// One access check and lookup per request, shared by the title and the page.
const load = cache(async ({ teamSlug, projectSlug, sweepId }: Params) => {
  const base = `/t/${teamSlug}/p/${projectSlug}`;
  const user = await requirePageUser(`${base}/sweeps/${sweepId}`);
  const access = await orNotFound(projectAccess(user, { teamSlug, projectSlug }, "job.read"));
  const sweep = await db.sweep.findFirst({
    where: { id: sweepId, projectId: access.project.id },
    select: { id: true, name: true, createdById: true },
  });
  if (!sweep) notFound();
  return { user, ...access, sweep, base };
});

export async function generateMetadata({ params }: { params: Promise<Params> }): Promise<Metadata> {
  const { sweep } = await load(await params);
  return { title: `${sweep.name} · Sweep` };
}

export default async function SweepPage({ params }: { params: Promise<Params> }) {
  const { user, project, team, role, sweep, base } = await load(await params);
  const canUpdate = can(role, "sweep.update.any") || (can(role, "sweep.update.own") && sweep.createdById === user.id);
  return (
    <SweepView
      sweepId={sweep.id}
      base={base}
      permissions={{ update: canUpdate, trainBest: can(role, "job.create") }}
      crumbs={{ team: team.name, teamHref: `/t/${team.slug}`, project: project.name, projectHref: base }}
    />
  );
}
