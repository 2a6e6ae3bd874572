import type { Metadata } from "next";
import { can } from "@wyolo/contracts";
import { EmptyState, PageHeader } from "@/components/ui";
import { teamAccess } from "@/server/access";
import { orNotFound, requirePageUser } from "@/server/pages";
import { TokensView } from "@/app/account/tokens/tokens-view";

export async function generateMetadata({ params }: { params: Promise<{ teamSlug: string }> }): Promise<Metadata> {
  return { title: `Service tokens · ${(await params).teamSlug}` };
}

export default async function TeamTokensPage({ params }: { params: Promise<{ teamSlug: string }> }) {
  const { teamSlug } = await params;
  const user = await requirePageUser(`/t/${teamSlug}/tokens`);
  const { team, role } = await orNotFound(teamAccess(user, { slug: teamSlug }, "team.read"));
  if (!can(role, "token.manage"))
    return (
      <>
        <PageHeader title="Service tokens" />
        <EmptyState title="Only the team's admins manage service tokens">
          Ask an admin of {team.name}, or create a personal token under Account → API tokens.
        </EmptyState>
      </>
    );
  return <TokensView mode={{ kind: "team", teamId: team.id, teamName: team.name }} />;
}
