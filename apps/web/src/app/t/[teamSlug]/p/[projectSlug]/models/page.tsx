import type { Metadata } from "next";
import { cache } from "react";
import { projectAccess } from "@/server/access";
import { orNotFound, requirePageUser } from "@/server/pages";
import { ModelsView } from "@/components/models/models-view";

type Params = { teamSlug: string; projectSlug: string };

// One access check per request, shared by the tab title and the page.
const load = cache(async ({ teamSlug, projectSlug }: Params) => {
  const user = await requirePageUser(`/t/${teamSlug}/p/${projectSlug}/models`);
  return orNotFound(projectAccess(user, { teamSlug, projectSlug }, "project.read"));
});

export async function generateMetadata({ params }: { params: Promise<Params> }): Promise<Metadata> {
  const { project } = await load(await params);
  return { title: `Models · ${project.name}` };
}

export default async function ModelsPage({ params }: { params: Promise<Params> }) {
  const { project, team } = await load(await params);
  return (
    <ModelsView
      projectId={project.id}
      teamSlug={team.slug}
      base={`/t/${team.slug}/p/${project.slug}`}
      crumbs={{ team: team.name, teamHref: `/t/${team.slug}`, project: project.name }}
    />
  );
}
