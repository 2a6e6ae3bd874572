import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { Shell } from "@/components/shell";
import { PageHeader } from "@/components/ui";
import { requirePageUser } from "@/server/pages";
import { UsersView } from "./users-view";

export const metadata: Metadata = { title: "Users" };

export default async function UsersPage() {
  const user = await requirePageUser("/admin/users");
  if (!user.isPlatformAdmin) notFound();
  return (
    <Shell user={user}>
      <PageHeader title="Users" subtitle="Every account on this Wyolo. Disabling an account ends its sessions at once." />
      <UsersView me={user.id} />
    </Shell>
  );
}
