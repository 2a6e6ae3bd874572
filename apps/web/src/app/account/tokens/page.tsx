import type { Metadata } from "next";
import { Shell } from "@/components/shell";
import { requirePageUser } from "@/server/pages";
import { listTeams } from "@/server/teams/list-teams";
import { TokensView } from "./tokens-view";

export const metadata: Metadata = { title: "API tokens" };

export default async function AccountTokensPage() {
  const user = await requirePageUser("/account/tokens");
  const teams = await listTeams(user);
  return (
    <Shell user={user}>
      <TokensView
        mode={{ kind: "personal", teams: teams.filter((t) => !t.viaPlatformAdmin).map((t) => ({ slug: t.slug, name: t.name })) }}
      />
    </Shell>
  );
}
