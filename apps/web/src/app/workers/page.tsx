import type { Metadata } from "next";
import { Shell } from "@/components/shell";
import { PageHeader } from "@/components/ui";
import { requirePageUser } from "@/server/pages";
import { WorkersView } from "./workers-view";

export const metadata: Metadata = { title: "Workers" };

export default async function WorkersPage() {
  const user = await requirePageUser("/workers");
  return (
    <Shell user={user}>
      <PageHeader title="Workers" subtitle="Training workers, their GPUs and what runs on them. Refreshes every few seconds." />
      <WorkersView />
    </Shell>
  );
}
