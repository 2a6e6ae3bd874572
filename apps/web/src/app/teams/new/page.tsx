import type { Metadata } from "next";
import { Shell } from "@/components/shell";
import { requirePageUser } from "@/server/pages";
import { NewTeamForm } from "./new-team-form";

export const metadata: Metadata = { title: "Create team" };

export default async function NewTeamPage() {
  const user = await requirePageUser("/teams/new");
  return (
    <Shell user={user}>
      <div className="mx-auto max-w-md">
        <h1 className="mb-6 text-2xl font-semibold">Create a team</h1>
        <NewTeamForm />
      </div>
    </Shell>
  );
}
