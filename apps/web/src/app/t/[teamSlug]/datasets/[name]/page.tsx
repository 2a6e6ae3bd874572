import type { Metadata } from "next";
import { cache } from "react";
import { teamAccess } from "@/server/access";
import { orNotFound, requirePageUser } from "@/server/pages";
import { DatasetView } from "./dataset-view";

type Params = Promise<{ teamSlug: string; name: string }>;

const load = cache(async (teamSlug: string, name: string) => {
  const user = await requirePageUser(`/t/${teamSlug}/datasets/${encodeURIComponent(name)}`);
  return orNotFound(teamAccess(user, { slug: teamSlug }, "dataset.read"));
});

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { teamSlug, name } = await params;
  const { team } = await load(teamSlug, name);
  return { title: `${decodeURIComponent(name)} · Datasets · ${team.name}` };
}

export default async function DatasetPage({ params }: { params: Params }) {
  const { teamSlug, name } = await params;
  const { team } = await load(teamSlug, name);
  return <DatasetView team={team} name={decodeURIComponent(name)} />;
}
