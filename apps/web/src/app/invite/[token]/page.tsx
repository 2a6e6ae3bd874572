import type { Metadata } from "next";
import { pageUser } from "@/server/pages";
import { AcceptInvitation } from "./accept-invitation";

export const metadata: Metadata = { title: "Invitation" };

export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const user = await pageUser();
  return (
    <div className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-md">
        <h1 className="mb-6 text-center text-3xl font-bold tracking-tight text-indigo-600 dark:text-indigo-400">Wyolo</h1>
        <AcceptInvitation token={token} user={user ? { email: user.email, name: user.name } : null} />
      </div>
    </div>
  );
}
