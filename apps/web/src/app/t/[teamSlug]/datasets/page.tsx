import type { Metadata } from "next";
import { cache } from "react";
import { can } from "@wyolo/contracts";
import { teamAccess } from "@/server/access";
import { orNotFound, requirePageUser } from "@/server/pages";
import { DatasetsView } from "./datasets-view";

const load = cache(async (teamSlug: string) => {
  const user = await requirePageUser(`/t/${teamSlug}/datasets`);
  return orNotFound(teamAccess(user, { slug: teamSlug }, "dataset.read"));
});

export async function generateMetadata({ params }: { params: Promise<{ teamSlug: string }> }): Promise<Metadata> {
  const { team } = await load((await params).teamSlug);
  return { title: `Datasets · ${team.name}` };
}

export default async function DatasetsPage({ params }: { params: Promise<{ teamSlug: string }> }) {
  const { team, role } = await load((await params).teamSlug);
  return <DatasetsView team={team} canCreate={can(role, "dataset.upload")} />;
}
