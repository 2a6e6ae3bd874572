import { redirect } from "next/navigation";
import { requirePageUser } from "@/server/pages";
import { listTeams } from "@/server/teams/list-teams";

export default async function Home() {
  const user = await requirePageUser("/");
  const teams = await listTeams(user);
  const mine = teams.find((t) => !t.viaPlatformAdmin) ?? teams[0];
  redirect(mine ? `/t/${mine.slug}` : "/teams/new");
}
