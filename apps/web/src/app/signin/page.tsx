import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { pageUser } from "@/server/pages";
import { oidcEnabled } from "@/server/auth/options";
import { env } from "@/env";
import { SignInForm } from "./sign-in-form";

export const metadata: Metadata = { title: "Sign in" };

function safeReturn(url: string | undefined): string {
  // Only same-site paths: an open redirect would let a link send users elsewhere after sign-in.
  return url && url.startsWith("/") && !url.startsWith("//") ? url : "/";
}

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string; error?: string }> }) {
  const { callbackUrl, error } = await searchParams;
  const returnTo = safeReturn(callbackUrl);
  if (await pageUser()) redirect(returnTo);
  return (
    <div className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-sm">
        <h1 className="mb-1 text-center text-3xl font-bold tracking-tight text-indigo-600 dark:text-indigo-400">Wyolo</h1>
        <p className="mb-8 text-center text-sm text-zinc-500">Train YOLO and RT-DETR models on your own GPUs</p>
        <SignInForm callbackUrl={returnTo} oidcName={oidcEnabled ? env.OIDC_NAME : null} initialError={error ? "Sign-in failed" : null} />
      </div>
    </div>
  );
}
