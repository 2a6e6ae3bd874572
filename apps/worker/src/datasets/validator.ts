import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { DATASET_TASKS, datasetReportSchema, datasetStatsSchema, itemLabelSchema } from "@wyolo/contracts";
import { trainerEnv } from "../training/trainer-env.ts";

/** One file the validator looked at (images and label files). */
const validatedItemSchema = z.object({
  path: z.string(),
  kind: z.enum(["image", "label"]),
  split: z.string().nullable(),
  width: z.number().int().nullable().optional(),
  height: z.number().int().nullable().optional(),
  format: z.string().nullable().optional(),
  labels: z.array(itemLabelSchema).optional(),
  classIds: z.array(z.number().int()).optional(),
  errorCount: z.number().int(),
});
export type ValidatedItem = z.infer<typeof validatedItemSchema>;

/** What apps/worker/datasets/validate_dataset.py prints (its docstring describes it). */
export const validationOutputSchema = z.object({
  report: datasetReportSchema,
  stats: datasetStatsSchema,
  task: z.enum(DATASET_TASKS).nullable(),
  names: z.array(z.string()),
  splits: z.record(z.string(), z.string()),
  kptShape: z.tuple([z.number().int(), z.number().int()]).optional(),
  flipIdx: z.array(z.number().int()).optional(),
  yaml: z.string().optional(),
  items: z.array(validatedItemSchema),
});
export type ValidationOutput = z.infer<typeof validationOutputSchema>;

/**
 * Runs the validator (VALIDATOR_COMMAND, split on spaces) on a dataset folder and reads its JSON
 * from `outFile`. A validator that cannot run, crashes or overruns `timeoutMs` throws (the job is
 * retried: that is this worker's problem, not the dataset's); an invalid dataset is a report.
 * It parses untrusted uploads, so it runs with the trainer's environment: the worker's own minus
 * its secrets (no database, Redis, S3 or MLflow settings, nothing that looks like a key).
 */
export async function runValidator(opts: {
  command: string;
  root: string;
  outFile: string;
  procs?: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The environment its secrets are taken out of (the worker's own by default). */
  env?: Record<string, string | undefined>;
}): Promise<ValidationOutput> {
  const [program, ...args] = opts.command.split(/\s+/).filter(Boolean);
  args.push(opts.root, "--out", opts.outFile);
  if (opts.procs) args.push("--procs", String(opts.procs));
  const child = spawn(program!, args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: trainerEnv((opts.env ?? process.env) as NodeJS.ProcessEnv, {}) as NodeJS.ProcessEnv,
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  let stopped: string | undefined;
  const stop = (why: string) => {
    stopped ??= why;
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
  };
  const timer = setTimeout(
    () => stop(`the validator ran longer than ${Math.round(opts.timeoutMs / 1000)} s (VALIDATOR_TIMEOUT_MS)`),
    opts.timeoutMs,
  );
  const onAbort = () => stop("the worker is stopping");
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (c) => resolve(c));
    });
    if (stopped) throw new Error(`Validation stopped: ${stopped}`);
    if (code !== 0) throw new Error(`The validator exited with ${code}: ${stderr.trim().split("\n").slice(-5).join(" | ").slice(0, 1500)}`);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
  }
  const parsed = validationOutputSchema.safeParse(JSON.parse(await readFile(opts.outFile, "utf8")));
  if (!parsed.success)
    throw new Error(
      `The validator's output does not match its schema: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join(".")}: ${i.message}`)
        .join("; ")}`,
    );
  return parsed.data;
}
