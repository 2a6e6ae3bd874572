"use client";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { signOut } from "next-auth/react";
import { clsx } from "clsx";
import type { ReactNode } from "react";
import { ThemeToggle } from "./theme-toggle";

type TeamOption = { slug: string; name: string };

export function AppShell({
  user,
  teams,
  currentTeam,
  children,
}: {
  user: { name: string; email: string; isPlatformAdmin: boolean };
  teams: TeamOption[];
  currentTeam?: TeamOption;
  children: ReactNode;
}) {
  const router = useRouter();
  const pathname = usePathname();
  const nav = currentTeam
    ? [
        { href: `/t/${currentTeam.slug}`, label: "Projects" },
        // A section: its dataset pages below it keep the link marked.
        { href: `/t/${currentTeam.slug}/datasets`, label: "Datasets", section: true },
        { href: `/t/${currentTeam.slug}/members`, label: "Members" },
        // Managers' pages; others see a notice there saying who manages them.
        { href: `/t/${currentTeam.slug}/tokens`, label: "Tokens" },
        { href: `/t/${currentTeam.slug}/webhooks`, label: "Webhooks" },
      ]
    : [];
  return (
    <div className="min-h-screen">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:rounded focus:bg-white focus:p-2">
        Skip to content
      </a>
      <header className="border-b border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900">
        {/* One row at any width: on a phone the row scrolls sideways inside the header, never the page. */}
        <div className="mx-auto flex max-w-6xl items-center gap-2 overflow-x-auto px-4 py-3 whitespace-nowrap sm:gap-3 [&>*]:shrink-0">
          <Link href="/" className="text-lg font-bold tracking-tight text-indigo-600 dark:text-indigo-400">
            Wyolo
          </Link>
          <label htmlFor="team-switcher" className="sr-only">
            Team
          </label>
          <select
            id="team-switcher"
            value={currentTeam?.slug ?? ""}
            onChange={(e) => router.push(e.target.value === "__new" ? "/teams/new" : `/t/${e.target.value}`)}
            className="max-w-36 rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm sm:max-w-none dark:border-zinc-700 dark:bg-zinc-900"
          >
            {!currentTeam && <option value="">Select a team…</option>}
            {teams.map((t) => (
              <option key={t.slug} value={t.slug}>
                {t.name}
              </option>
            ))}
            <option value="__new">+ Create team</option>
          </select>
          <nav aria-label="Team" className="flex gap-1">
            {nav.map((item) => {
              const current = pathname === item.href || ("section" in item && pathname.startsWith(`${item.href}/`));
              return (
                <Link
                  key={item.href}
                  href={item.href}
                  aria-current={current ? "page" : undefined}
                  className={clsx(
                    "rounded-md px-2 py-1.5 text-sm font-medium sm:px-3",
                    current
                      ? "bg-zinc-100 text-zinc-900 dark:bg-zinc-800 dark:text-zinc-50"
                      : "text-zinc-600 hover:bg-zinc-100 dark:text-zinc-400 dark:hover:bg-zinc-800",
                  )}
                >
                  {item.label}
                </Link>
              );
            })}
          </nav>
          <div className="ml-auto flex items-center gap-1">
            <Link
              href="/workers"
              className="rounded-md px-2 py-1.5 text-sm text-zinc-600 hover:bg-zinc-100 sm:px-3 dark:text-zinc-400 dark:hover:bg-zinc-800"
            >
              Workers
            </Link>
            {user.isPlatformAdmin && (
              <Link
                href="/admin/users"
                className="rounded-md px-2 py-1.5 text-sm text-zinc-600 hover:bg-zinc-100 sm:px-3 dark:text-zinc-400 dark:hover:bg-zinc-800"
              >
                Users
              </Link>
            )}
            <Link
              href="/account"
              className="rounded-md px-2 py-1.5 text-sm text-zinc-600 hover:bg-zinc-100 sm:px-3 dark:text-zinc-400 dark:hover:bg-zinc-800"
              title={user.email}
            >
              <span className="inline-block max-w-24 truncate align-bottom sm:max-w-48">{user.name}</span>
            </Link>
            <ThemeToggle />
            <button
              type="button"
              onClick={() => signOut({ callbackUrl: "/signin" })}
              className="rounded-md px-2 py-1.5 text-sm text-zinc-600 hover:bg-zinc-100 sm:px-3 dark:text-zinc-400 dark:hover:bg-zinc-800"
            >
              Sign out
            </button>
          </div>
        </div>
      </header>
      <main id="main" className="mx-auto max-w-6xl px-4 py-8">
        {children}
      </main>
    </div>
  );
}
