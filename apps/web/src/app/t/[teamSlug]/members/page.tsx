import type { Metadata } from "next";
import { can } from "@wyolo/contracts";
import { teamAccess } from "@/server/access";
import { orNotFound, requirePageUser } from "@/server/pages";
import { MembersView } from "./members-view";

export const metadata: Metadata = { title: "Members" };

export default async function MembersPage({ params }: { params: Promise<{ teamSlug: string }> }) {
  const { teamSlug } = await params;
  const user = await requirePageUser(`/t/${teamSlug}/members`);
  const { team, role, viaPlatformAdmin } = await orNotFound(teamAccess(user, { slug: teamSlug }, "member.read"));
  return (
    <MembersView
      team={team}
      me={user.id}
      role={role}
      isMember={!viaPlatformAdmin}
      perms={{
        invite: can(role, "member.invite"),
        update: can(role, "member.update"),
        remove: can(role, "member.remove"),
        transfer: can(role, "team.transfer") && !viaPlatformAdmin,
        deleteTeam: can(role, "team.delete"),
      }}
    />
  );
}
