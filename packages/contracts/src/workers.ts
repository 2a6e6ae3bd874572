import { z } from "zod";
import { TASKS, type Task } from "./training-config.ts";

/**
 * Redis hash of the reports of the workers of one queue: field = worker name, value = JSON
 * WorkerReport. Per queue, so deployments (or test runs) sharing a Redis do not see each other's.
 */
export const workersKey = (queue: string) => `wyolo:workers:${queue}`;
/** A worker not heard from for this long is shown offline. */
export const WORKER_OFFLINE_AFTER_MS = 30_000;

export type GpuStats = {
  index: number;
  uuid: string;
  name: string;
  memoryTotalMb: number;
  memoryUsedMb: number;
  memoryFreeMb: number;
  utilizationPercent: number;
  temperatureC: number | null;
  /** The job placed on this GPU by its worker, if any. */
  jobId: string | null;
};

export type WorkerReport = {
  name: string;
  host: string;
  pid: number;
  startedAt: string;
  lastSeen: string;
  concurrency: number;
  draining: boolean;
  trainer: { ok: boolean; problem?: string; details: Record<string, unknown> };
  gpus: GpuStats[];
  runningJobIds: string[];
  /** Model export formats this worker's image can produce (empty when it cannot export). */
  exportFormats?: string[];
  /** What this worker can train from: named weights and datasets it found (absent from workers older than the field). */
  inventory?: WorkerInventory;
};

/** A dataset a worker found under its DATASETS_DIR: a dataset YAML, or a classification root (train/ and val/, a folder per class). */
export type DatasetEntry = {
  /** Relative to DATASETS_DIR, as `train.data` takes it. */
  path: string;
  kind: "yaml" | "classify";
  /** The side of its first training image rounded up to a multiple of 32 (at most 640): the image size that fits it. */
  imgsz?: number;
};

export type WorkerInventory = {
  /** `.pt` files in WEIGHTS_DIR and under WEIGHTS_S3_PREFIX, by the name a config's `model` takes. */
  weights: string[];
  datasets: DatasetEntry[];
  /** The scan stopped at its bounds (depth, entries); more may be there. */
  truncated: boolean;
};

/** Bounds of a worker's dataset scan: folders this deep below DATASETS_DIR, at most this many datasets. */
export const INVENTORY_MAX_DEPTH = 3;
export const INVENTORY_MAX_DATASETS = 200;

/** Ultralytics' file suffix per task (`yolo11n-seg.yaml`, `yolov8n-cls.pt`). */
export const TASK_SUFFIX: Record<Task, string> = { detect: "", segment: "-seg", classify: "-cls", pose: "-pose", obb: "-obb" };

/**
 * Architectures every worker can train from scratch (Ultralytics builds them from its own YAML;
 * no download): YOLO11 and YOLOv8 in every size and task, RT-DETR for detection.
 */
export const ARCHITECTURES: readonly { model: string; task: Task; type: "yolo" | "rtdetr" }[] = [
  ...(["yolo11", "yolov8"] as const).flatMap((family) =>
    TASKS.flatMap((task) =>
      ["n", "s", "m", "l", "x"].map((size) => ({ model: `${family}${size}${TASK_SUFFIX[task]}.yaml`, task, type: "yolo" as const })),
    ),
  ),
  { model: "rtdetr-l.yaml", task: "detect", type: "rtdetr" },
  { model: "rtdetr-x.yaml", task: "detect", type: "rtdetr" },
];

/** The task and model type a model file name implies (`yolo11n-seg.pt` → segment): the suffix decides, no suffix is detect. */
export function modelKind(model: string): { task: Task; type: "yolo" | "rtdetr" } {
  const stem = model.replace(/^.*\//, "").replace(/\.(pt|yaml|yml)$/, "");
  const task = (Object.entries(TASK_SUFFIX) as [Task, string][]).find(([, suffix]) => suffix && stem.endsWith(suffix))?.[0] ?? "detect";
  return { task, type: /^rtdetr/i.test(stem) ? "rtdetr" : "yolo" };
}

// The fields the readers rely on; a report missing them (or not JSON) is dropped.
const reportShape = z.looseObject({
  name: z.string(),
  lastSeen: z.string().refine((s) => !Number.isNaN(Date.parse(s))),
  draining: z.boolean(),
  gpus: z.array(z.looseObject({ index: z.number() })),
  runningJobIds: z.array(z.string()),
  trainer: z.looseObject({ ok: z.boolean() }),
});

/** One field of the workers hash, or null when it is not a worker report. */
export function parseWorkerReport(raw: string): WorkerReport | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  return reportShape.safeParse(value).success ? (value as WorkerReport) : null;
}

/** Heard from lately and not stopping: it takes jobs. */
export function isWorkerOnline(report: Pick<WorkerReport, "lastSeen" | "draining">, now = Date.now()): boolean {
  return !report.draining && now - Date.parse(report.lastSeen) <= WORKER_OFFLINE_AFTER_MS;
}
