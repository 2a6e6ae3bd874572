import "server-only";
import { ARCHITECTURES, isWorkerOnline, modelKind, parseWorkerReport, workersKey, type DatasetEntry, type Task } from "@wyolo/contracts";
import { env } from "@/env";
import { redis } from "../redis";
import { withTimeout } from "../timeout";

export type TrainingOptions = {
  architectures: { model: string; task: Task; type: "yolo" | "rtdetr" }[];
  /** Named weights some online worker has, with the task their name implies. */
  weights: { model: string; task: Task; type: "yolo" | "rtdetr"; workers: number }[];
  datasets: (DatasetEntry & { workers: number })[];
  /** How many online workers reported; 0 means the lists are what every worker can do, not what they have. */
  workers: number;
  truncated: boolean;
};

/**
 * What the submit form offers: the architectures every worker trains from scratch, and the named
 * weights and datasets the online workers reported (each with how many of them have it).
 */
export async function listTrainingOptions(now = Date.now()): Promise<TrainingOptions> {
  const raw = await withTimeout(redis.hgetall(workersKey(env.TRAINING_QUEUE)), 3_000, "worker list");
  const weights = new Map<string, number>();
  const datasets = new Map<string, DatasetEntry & { workers: number }>();
  let workers = 0;
  let truncated = false;
  for (const value of Object.values(raw)) {
    const report = parseWorkerReport(value);
    if (!report || !isWorkerOnline(report, now) || !report.inventory) continue;
    workers++;
    truncated ||= report.inventory.truncated;
    for (const w of report.inventory.weights) weights.set(w, (weights.get(w) ?? 0) + 1);
    for (const d of report.inventory.datasets) {
      const seen = datasets.get(d.path);
      datasets.set(d.path, seen ? { ...seen, workers: seen.workers + 1 } : { ...d, workers: 1 });
    }
  }
  return {
    architectures: [...ARCHITECTURES],
    weights: [...weights].map(([model, n]) => ({ model, ...modelKind(model), workers: n })).sort((a, b) => a.model.localeCompare(b.model)),
    datasets: [...datasets.values()].sort((a, b) => a.path.localeCompare(b.path)),
    workers,
    truncated,
  };
}
