"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { COMPARE_MAX_JOBS, type JobListPage } from "@wyolo/contracts";
import { Button, Select } from "@/components/ui";
import { JobStatusBadge } from "@/components/job-status";
import { api } from "@/lib/api";
import { formatMetric, metricLabel } from "@/lib/format";

type Project = { id: string; name: string; slug: string };

/** Adds jobs from any project of the team: pick a project, tick its jobs (newest first), add. */
export function JobPicker({ teamId, selected, onAdd }: { teamId: string; selected: readonly string[]; onAdd: (ids: string[]) => void }) {
  const [projectId, setProjectId] = useState("");
  const [ticked, setTicked] = useState<string[]>([]);
  const projects = useQuery({
    queryKey: ["projects", teamId],
    queryFn: () => api<{ projects: Project[] }>(`/api/v1/teams/${teamId}/projects`).then((r) => r.projects),
  });
  const current = projectId || projects.data?.[0]?.id || "";
  const jobs = useQuery({
    queryKey: ["compare-picker", current],
    enabled: !!current,
    queryFn: () => api<JobListPage>(`/api/v1/projects/${current}/jobs?limit=50&trials=include`).then((r) => r.jobs),
  });
  const room = COMPARE_MAX_JOBS - selected.length;
  const candidates = (jobs.data ?? []).filter((j) => !selected.includes(j.id));

  return (
    <div className="space-y-3">
      <label className="block text-xs text-zinc-500">
        Project
        <Select
          aria-label="Project to add jobs from"
          value={current}
          onChange={(e) => (setProjectId(e.target.value), setTicked([]))}
          className="mt-1 w-full sm:w-64"
        >
          {projects.data?.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </Select>
      </label>
      {jobs.isPending ? (
        <p className="text-sm text-zinc-500">Loading jobs…</p>
      ) : candidates.length === 0 ? (
        <p className="text-sm text-zinc-500">No other jobs in this project.</p>
      ) : (
        <ul
          className="max-h-64 divide-y divide-zinc-100 overflow-y-auto rounded border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800"
          aria-label="Jobs to add"
        >
          {candidates.map((j) => (
            <li key={j.id}>
              <label className="flex cursor-pointer items-center gap-3 px-3 py-2 text-sm hover:bg-zinc-50 dark:hover:bg-zinc-800/50">
                <input
                  type="checkbox"
                  checked={ticked.includes(j.id)}
                  disabled={!ticked.includes(j.id) && ticked.length >= room}
                  onChange={(e) => setTicked((t) => (e.target.checked ? [...t, j.id] : t.filter((id) => id !== j.id)))}
                  aria-label={`Add ${j.name}`}
                />
                <span className="min-w-0 flex-1 truncate font-medium">{j.name}</span>
                <span className="hidden text-xs text-zinc-500 sm:inline">
                  {formatMetric(j.bestMetric)} {metricLabel(j.bestMetricName)}
                </span>
                <JobStatusBadge status={j.status} />
              </label>
            </li>
          ))}
        </ul>
      )}
      <div className="flex items-center gap-3">
        <Button disabled={ticked.length === 0} onClick={() => (onAdd(ticked), setTicked([]))}>
          Add {ticked.length || ""} to the comparison
        </Button>
        <span className="text-xs text-zinc-500">{room > 0 ? `Up to ${room} more` : `At most ${COMPARE_MAX_JOBS} jobs`}</span>
      </div>
    </div>
  );
}
