import type { Metadata } from "next";
import { can } from "@wyolo/contracts";
import { teamAccess } from "@/server/access";
import { orNotFound, requirePageUser } from "@/server/pages";
import { ProjectsView } from "./projects-view";

export const metadata: Metadata = { title: "Projects" };

export default async function TeamPage({ params }: { params: Promise<{ teamSlug: string }> }) {
  const { teamSlug } = await params;
  const user = await requirePageUser(`/t/${teamSlug}`);
  const { team, role } = await orNotFound(teamAccess(user, { slug: teamSlug }, "project.read"));
  return <ProjectsView team={team} role={role} canCreate={can(role, "project.create")} />;
}
