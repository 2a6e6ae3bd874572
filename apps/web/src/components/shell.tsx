import "server-only";
import type { ReactNode } from "react";
import type { SessionUser } from "@/server/auth/session";
import { listTeams } from "@/server/teams/list-teams";
import { AppShell } from "./app-shell";

export async function Shell({
  user,
  currentTeam,
  children,
}: {
  user: SessionUser;
  currentTeam?: { slug: string; name: string };
  children: ReactNode;
}) {
  const teams = await listTeams(user);
  return (
    <AppShell user={user} teams={teams.map((t) => ({ slug: t.slug, name: t.name }))} currentTeam={currentTeam}>
      {children}
    </AppShell>
  );
}
