import type { Metadata } from "next";
import { cache } from "react";
import { can } from "@wyolo/contracts";
import { teamAccess } from "@/server/access";
import { orNotFound, requirePageUser } from "@/server/pages";
import { ProjectsView } from "./projects-view";

// One access check per request, shared by the tab title and the page.
const load = cache(async (teamSlug: string) => {
  const user = await requirePageUser(`/t/${teamSlug}`);
  return orNotFound(teamAccess(user, { slug: teamSlug }, "project.read"));
});

export async function generateMetadata({ params }: { params: Promise<{ teamSlug: string }> }): Promise<Metadata> {
  const { team } = await load((await params).teamSlug);
  return { title: `Projects · ${team.name}` };
}

export default async function TeamPage({ params }: { params: Promise<{ teamSlug: string }> }) {
  const { team, role } = await load((await params).teamSlug);
  return <ProjectsView team={team} role={role} canCreate={can(role, "project.create")} />;
}
