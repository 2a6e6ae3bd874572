import { UnrecoverableError, type Job } from "bullmq";
import type { z } from "zod";
import type { Logger } from "./logger.ts";
import type { Lease, Lifeline } from "./lost-workers.ts";

/** `lease`: this worker's hold on the job (its lock); once lost, the job is another worker's. */
export type JobContext = { job: Job; token: string | undefined; signal: AbortSignal; log: Logger; lease?: Lease; lifeline?: Lifeline };
export type JobHandler<T> = (data: T, ctx: JobContext) => Promise<unknown>;
type Entry = { schema: z.ZodType; handler: JobHandler<never> };

/**
 * Job name → payload schema and handler. Payloads are re-validated here: one that fails is a bug
 * or a forged entry, so it fails for good instead of being retried.
 */
export class Catalog {
  private readonly entries = new Map<string, Entry>();

  register<S extends z.ZodType>(name: string, schema: S, handler: JobHandler<z.infer<S>>): this {
    this.entries.set(name, { schema, handler: handler as JobHandler<never> });
    return this;
  }

  async dispatch(ctx: JobContext): Promise<unknown> {
    const { job } = ctx;
    const entry = this.entries.get(job.name);
    if (!entry) throw new UnrecoverableError(`Unknown job kind "${job.name}"`);
    const parsed = entry.schema.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(
        `Invalid payload for "${job.name}": ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      );
    return (entry.handler as JobHandler<unknown>)(parsed.data, ctx);
  }
}
