"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { clsx } from "clsx";
import { Card, EmptyState } from "@/components/ui";
import { api } from "@/lib/api";
import { timeAgo } from "@/lib/format";
import type { listWorkers } from "@/server/workers/list-workers";

type Worker = Awaited<ReturnType<typeof listWorkers>>[number];
type JobRef = Worker["running"][number];

function JobLink({ job }: { job: JobRef | null }) {
  if (!job) return <span className="text-zinc-400">idle</span>;
  if (!job.id) return <span className="text-zinc-500">another team&apos;s job</span>;
  return (
    <Link href={job.href} className="text-indigo-700 hover:underline dark:text-indigo-300">
      {job.name}
    </Link>
  );
}

function Meter({ value, max, label }: { value: number; max: number; label: string }) {
  const pct = max > 0 ? Math.round((value / max) * 100) : 0;
  return (
    <div aria-label={label} title={label}>
      <div className="h-1.5 w-24 overflow-hidden rounded bg-zinc-200 dark:bg-zinc-800">
        <div
          className={clsx("h-full", pct > 85 ? "bg-red-500" : pct > 60 ? "bg-amber-500" : "bg-emerald-500")}
          style={{ width: `${pct}%` }}
        />
      </div>
    </div>
  );
}

export function WorkersView() {
  const workers = useQuery({
    queryKey: ["workers"],
    queryFn: () => api<{ workers: Worker[] }>("/api/v1/workers").then((r) => r.workers),
    refetchInterval: 5_000,
  });
  if (workers.isPending) return <p className="text-sm text-zinc-500">Loading workers…</p>;
  if (workers.isError) return <p className="text-sm text-red-600">Could not load workers: {workers.error.message}</p>;
  if (workers.data.length === 0)
    return (
      <EmptyState title="No workers have reported yet">
        Start one with <code>npm run start:worker</code> (or the worker container) pointing at this Redis.
      </EmptyState>
    );
  return (
    <div className="space-y-4">
      {workers.data.map((w) => (
        <Card key={w.name}>
          <div className="flex flex-wrap items-baseline gap-x-4 gap-y-1">
            <h2 className="text-lg font-semibold">{w.name}</h2>
            <span
              className={clsx(
                "rounded px-2 py-0.5 text-xs font-semibold",
                w.online
                  ? "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/40 dark:text-emerald-300"
                  : "bg-zinc-200 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300",
              )}
            >
              {w.online ? "online" : w.draining ? "stopped" : "offline"}
            </span>
            <span className="text-sm text-zinc-500">
              {w.host} · {w.concurrency} slot{w.concurrency === 1 ? "" : "s"} · last seen{" "}
              <time dateTime={w.lastSeen}>{timeAgo(w.lastSeen)}</time>
            </span>
          </div>
          <p className={clsx("mt-2 text-sm", w.trainer.ok ? "text-zinc-600 dark:text-zinc-400" : "text-red-700 dark:text-red-400")}>
            {w.trainer.ok
              ? `Trainer ready: ${
                  Object.entries(w.trainer.versions)
                    .map(([k, v]) => `${k} ${v}`)
                    .join(" · ") || "ok"
                }`
              : `Cannot train: ${w.trainer.problem}`}
          </p>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            Exports: {w.exportFormats.length ? w.exportFormats.join(", ") : "none"}
          </p>
          {w.gpus.length === 0 ? (
            <p className="mt-3 text-sm">
              CPU only · running:{" "}
              {w.running.length ? w.running.map((j, i) => <JobLink key={i} job={j} />) : <span className="text-zinc-400">nothing</span>}
            </p>
          ) : (
            <table className="mt-3 w-full text-left text-sm">
              <caption className="sr-only">GPUs of {w.name}</caption>
              <thead className="text-xs uppercase text-zinc-500">
                <tr>
                  <th scope="col" className="py-1 pr-4">
                    GPU
                  </th>
                  <th scope="col" className="py-1 pr-4">
                    Load
                  </th>
                  <th scope="col" className="py-1 pr-4">
                    Memory
                  </th>
                  <th scope="col" className="py-1 pr-4">
                    Temp
                  </th>
                  <th scope="col" className="py-1">
                    Job
                  </th>
                </tr>
              </thead>
              <tbody>
                {w.gpus.map((g) => (
                  <tr key={g.uuid} className="border-t border-zinc-100 dark:border-zinc-800">
                    <td className="py-2 pr-4">
                      {g.index}: {g.name}
                    </td>
                    <td className="py-2 pr-4">
                      <div className="flex items-center gap-2">
                        <Meter value={g.utilizationPercent} max={100} label={`load ${g.utilizationPercent}%`} /> {g.utilizationPercent}%
                      </div>
                    </td>
                    <td className="py-2 pr-4">
                      <div className="flex items-center gap-2">
                        <Meter value={g.memoryUsedMb} max={g.memoryTotalMb} label={`memory ${g.memoryUsedMb} of ${g.memoryTotalMb} MB`} />{" "}
                        {(g.memoryUsedMb / 1024).toFixed(1)} / {(g.memoryTotalMb / 1024).toFixed(0)} GB
                      </div>
                    </td>
                    <td className="py-2 pr-4">{g.temperatureC == null ? "—" : `${g.temperatureC} °C`}</td>
                    <td className="py-2">
                      <JobLink job={g.job} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
      ))}
    </div>
  );
}
