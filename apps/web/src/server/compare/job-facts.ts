import "server-only";

// What the compare page and the leaderboard both say about a job beyond its row: how long it ran,
// how many GPUs it used and what that cost in GPU-hours (the SQL side is in ./sql.ts).

export type JobFactRow = {
  config: unknown;
  startedAt: Date | null;
  finishedAt: Date | null;
  sampledGpus: number | null;
};

/**
 * Duration (start to finish, or to now while it runs) and GPU-hours = duration × GPUs: the GPUs its
 * resource samples saw, else its config's `gpus` (0 = CPU); null when neither says (an old job
 * without samples that let the worker choose).
 */
export function jobCost(row: JobFactRow, now = Date.now()) {
  const durationSeconds = row.startedAt ? Math.max(0, ((row.finishedAt?.getTime() ?? now) - row.startedAt.getTime()) / 1000) : null;
  const configGpus = (row.config as { gpus?: unknown } | null)?.gpus;
  const gpus = row.sampledGpus ?? (typeof configGpus === "number" ? configGpus : null);
  const gpuHours = durationSeconds === null || gpus === null ? null : (durationSeconds / 3600) * gpus;
  return { durationSeconds, gpus, gpuHours };
}

export const iso = (d: Date | null) => (d ? d.toISOString() : null);
