import { UnrecoverableError, type Job } from "bullmq";
import type { z } from "zod";
import type { Logger } from "./logger.ts";

export type JobHandler<T> = (data: T, ctx: { job: Job; signal: AbortSignal; log: Logger }) => Promise<unknown>;
type Entry = { schema: z.ZodType; handler: JobHandler<never> };

/**
 * Job name → payload schema and handler. Payloads are re-validated here: one that fails is a bug
 * or a forged entry, so it fails for good instead of being retried. (The training handler joins
 * this catalog with the jobs feature.)
 */
export const catalog: Record<string, Entry> = {};

export async function dispatch(job: Job, signal: AbortSignal, log: Logger): Promise<unknown> {
  const entry = catalog[job.name];
  if (!entry) throw new UnrecoverableError(`Unknown job kind "${job.name}"`);
  const parsed = entry.schema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`Invalid payload for "${job.name}": ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return (entry.handler as JobHandler<unknown>)(parsed.data, { job, signal, log });
}
