import type { ReactNode } from "react";
import { Shell } from "@/components/shell";
import { teamAccess } from "@/server/access";
import { orNotFound, requirePageUser } from "@/server/pages";

export default async function TeamLayout({ children, params }: { children: ReactNode; params: Promise<{ teamSlug: string }> }) {
  const { teamSlug } = await params;
  const user = await requirePageUser(`/t/${teamSlug}`);
  const { team } = await orNotFound(teamAccess(user, { slug: teamSlug }, "team.read"));
  return (
    <Shell user={user} currentTeam={team}>
      {children}
    </Shell>
  );
}
