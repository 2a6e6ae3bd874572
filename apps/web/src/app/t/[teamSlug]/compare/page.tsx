import type { Metadata } from "next";
import { cache, Suspense } from "react";
import { teamAccess } from "@/server/access";
import { orNotFound, requirePageUser } from "@/server/pages";
import { CompareView } from "@/components/compare/compare-view";

type Props = { params: Promise<{ teamSlug: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

// One access check per request, shared by the tab title and the page. A shared link survives the sign-in round trip.
const load = cache(async (teamSlug: string, query: string) => {
  const user = await requirePageUser(`/t/${teamSlug}/compare${query ? `?${query}` : ""}`);
  return orNotFound(teamAccess(user, { slug: teamSlug }, "job.read"));
});

const queryOf = (search: Record<string, string | string[] | undefined>) =>
  new URLSearchParams(Object.entries(search).flatMap(([k, v]) => (typeof v === "string" ? [[k, v]] : []))).toString();

export async function generateMetadata({ params, searchParams }: Props): Promise<Metadata> {
  const { team } = await load((await params).teamSlug, queryOf(await searchParams));
  return { title: `Compare · ${team.name}` };
}

export default async function ComparePage({ params, searchParams }: Props) {
  const { team } = await load((await params).teamSlug, queryOf(await searchParams));
  return (
    <Suspense>
      <CompareView team={team} />
    </Suspense>
  );
}
