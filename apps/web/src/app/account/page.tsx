import type { Metadata } from "next";
import Link from "next/link";
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
      <div className="grid max-w-3xl gap-6 md:grid-cols-2">
        <Card>
          <h2 className="mb-4 text-lg font-semibold">Change password</h2>
          <ChangePasswordForm email={user.email} />
        </Card>
        <Card>
          <h2 className="text-lg font-semibold">API tokens</h2>
          <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">
            For scripts, CI and the <code>wyolo</code> CLI: scoped, expiring, shown once.
          </p>
          <Link
            href="/account/tokens"
            className="mt-4 inline-block text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400"
          >
            Manage API tokens →
          </Link>
        </Card>
      </div>
    </Shell>
  );
}
