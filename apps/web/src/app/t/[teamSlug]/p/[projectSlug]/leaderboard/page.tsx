import type { Metadata } from "next";
import Link from "next/link";
import { cache, Suspense } from "react";
import { projectAccess } from "@/server/access";
import { orNotFound, requirePageUser } from "@/server/pages";
import { PageHeader } from "@/components/ui";
import { ProjectTabs } from "@/components/compare/project-tabs";
import { LeaderboardView } from "@/components/compare/leaderboard-view";

type Params = { teamSlug: string; projectSlug: string };

const load = cache(async ({ teamSlug, projectSlug }: Params) => {
  const user = await requirePageUser(`/t/${teamSlug}/p/${projectSlug}/leaderboard`);
  return orNotFound(projectAccess(user, { teamSlug, projectSlug }, "job.read"));
});

export async function generateMetadata({ params }: { params: Promise<Params> }): Promise<Metadata> {
  const { project, team } = await load(await params);
  return { title: `Leaderboard · ${project.name} · ${team.name}` };
}

export default async function LeaderboardPage({ params }: { params: Promise<Params> }) {
  const { project, team } = await load(await params);
  const base = `/t/${team.slug}/p/${project.slug}`;
  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm text-zinc-500">
        <Link href={`/t/${team.slug}`} className="hover:underline">
          {team.name}
        </Link>{" "}
        /{" "}
        <Link href={base} className="hover:underline">
          {project.name}
        </Link>{" "}
        / <span aria-current="page">Leaderboard</span>
      </nav>
      <PageHeader title={`${project.name} leaderboard`} subtitle="Finished jobs ranked by a metric at their best epoch" />
      <ProjectTabs base={base} current="leaderboard" />
      <Suspense>
        <LeaderboardView projectId={project.id} base={base} teamSlug={team.slug} />
      </Suspense>
    </>
  );
}
