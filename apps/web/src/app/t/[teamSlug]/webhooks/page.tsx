import type { Metadata } from "next";
import { can } from "@wyolo/contracts";
import { teamAccess } from "@/server/access";
import { orNotFound, requirePageUser } from "@/server/pages";
import { PageHeader } from "@/components/ui";
import { WebhooksView } from "./webhooks-view";

export const metadata: Metadata = { title: "Webhooks" };

export default async function WebhooksPage({ params }: { params: Promise<{ teamSlug: string }> }) {
  const { teamSlug } = await params;
  const user = await requirePageUser(`/t/${teamSlug}/webhooks`);
  const { team, role } = await orNotFound(teamAccess(user, { slug: teamSlug }, "team.read"));
  if (!can(role, "team.update"))
    return (
      <>
        <PageHeader title="Webhooks" subtitle={`Notifications from ${team.name} to other services`} />
        <p className="text-sm text-zinc-600 dark:text-zinc-400">Only the team&apos;s owners and admins manage its webhooks.</p>
      </>
    );
  return <WebhooksView team={team} />;
}
