import { clsx } from "clsx";
import Link from "next/link";

export type ProjectTab = "jobs" | "sweeps" | "leaderboard" | "models";

/** A project's sections: Jobs · Sweeps (both on the project page) · Leaderboard · Models. `base` is `/t/<team>/p/<project>`. */
export function ProjectTabs({ base, current }: { base: string; current: ProjectTab }) {
  const tabs: { id: ProjectTab; label: string; href: string }[] = [
    { id: "jobs", label: "Jobs", href: `${base}#jobs` },
    { id: "sweeps", label: "Sweeps", href: `${base}#sweeps` },
    { id: "leaderboard", label: "Leaderboard", href: `${base}/leaderboard` },
    { id: "models", label: "Models", href: `${base}/models` },
  ];
  return (
    <nav aria-label="Project sections" className="-mt-2 mb-6 flex gap-1 overflow-x-auto border-b border-zinc-200 dark:border-zinc-800">
      {tabs.map((t) => (
        <Link
          key={t.id}
          href={t.href}
          aria-current={t.id === current ? "page" : undefined}
          className={clsx(
            "-mb-px whitespace-nowrap border-b-2 px-3 py-2 text-sm font-medium",
            t.id === current
              ? "border-indigo-600 text-indigo-700 dark:border-indigo-400 dark:text-indigo-300"
              : "border-transparent text-zinc-600 hover:border-zinc-300 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100",
          )}
        >
          {t.label}
        </Link>
      ))}
    </nav>
  );
}
