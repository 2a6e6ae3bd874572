import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { Shell } from "@/components/shell";
import { PageHeader } from "@/components/ui";
import { ThemeToggle } from "@/components/theme-toggle";
import { pageUser } from "@/server/pages";
import { ApiReference } from "./api-reference";

export const metadata: Metadata = { title: "API reference" };

const SPEC_URL = "/api/v1/openapi.json";
const ASSETS = "/api-docs/assets";

/** The interactive reference of /api/v1, open to anyone like the document it shows. */
export default async function ApiDocsPage() {
  const user = await pageUser();
  const body = (
    <>
      <link rel="stylesheet" href={`${ASSETS}/swagger-ui.css`} precedence="default" />
      <PageHeader
        title="API reference"
        subtitle={
          <>
            Every <code>/api/v1</code> endpoint. Call them with an API token (<code>Authorization: Bearer wyolo_…</code>, from{" "}
            <Link href="/account/tokens" className="text-indigo-600 hover:underline dark:text-indigo-400">
              Account → Tokens
            </Link>
            ) or, from this page, your session. The OpenAPI 3.1 document:{" "}
            <a href={SPEC_URL} className="text-indigo-600 hover:underline dark:text-indigo-400">
              {SPEC_URL}
            </a>
            .
          </>
        }
      />
      <ApiReference bundleUrl={`${ASSETS}/swagger-ui-bundle.js`} specUrl={SPEC_URL} />
    </>
  );
  return user ? <Shell user={user}>{body}</Shell> : <PublicFrame>{body}</PublicFrame>;
}

function PublicFrame({ children }: { children: ReactNode }) {
  return (
    <div className="min-h-screen">
      <header className="border-b border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900">
        <div className="mx-auto flex max-w-6xl items-center gap-3 px-4 py-3">
          <Link href="/" className="text-lg font-bold tracking-tight text-indigo-600 dark:text-indigo-400">
            Wyolo
          </Link>
          <div className="ml-auto flex items-center gap-2">
            <Link
              href="/signin"
              className="rounded-md px-3 py-1.5 text-sm text-zinc-600 hover:bg-zinc-100 dark:text-zinc-400 dark:hover:bg-zinc-800"
            >
              Sign in
            </Link>
            <ThemeToggle />
          </div>
        </div>
      </header>
      <main id="main" className="mx-auto max-w-6xl px-4 py-8">
        {children}
      </main>
    </div>
  );
}
