import type { Metadata } from "next";
import { Shell } from "@/components/shell";
import { Card, PageHeader } from "@/components/ui";
import { requirePageUser } from "@/server/pages";
import { ChangePasswordForm } from "./change-password-form";

export const metadata: Metadata = { title: "Account" };

export default async function AccountPage() {
  const user = await requirePageUser("/account");
  return (
    <Shell user={user}>
      <PageHeader title="Account" subtitle={`${user.name} · ${user.email}${user.isPlatformAdmin ? " · platform admin" : ""}`} />
      <Card className="max-w-md">
        <h2 className="mb-4 text-lg font-semibold">Change password</h2>
        <ChangePasswordForm email={user.email} />
      </Card>
    </Shell>
  );
}
