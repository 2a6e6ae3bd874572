import "server-only";
import { parseTrainingConfig, type Priority, type TrainingConfig } from "@wyolo/contracts";
import { stringify as toYaml, parse as parseYaml } from "yaml";
import type { Prisma } from "@wyolo/db";
import { db } from "../db";
import { audit } from "../audit";
import { projectAccess } from "../access";
import { AppError } from "../errors";
import { logger } from "../logger";
import { emitJobUpdated } from "../realtime/emitter";
import type { SessionUser } from "../auth/session";
import { enqueueTraining } from "./enqueue";
import { jobSummarySelect, toJobSummary } from "./job-summary";

const LEGACY_SECRET_BLOCKS = ["mlflow", "minio", "redis"];

/** "yolo11n · shapes" from yolo11n.pt and /datasets/shapes/data.yaml. */
function defaultName(config: TrainingConfig): string {
  const base = (p: string) => {
    const parts = p.replace(/\/+$/, "").split("/");
    const name = parts.pop()!.replace(/\.(pt|ya?ml)$/, "");
    return ["data", "dataset"].includes(name) && parts.length ? parts.pop()! : name;
  };
  return (config.task_id ?? `${base(config.model)} · ${base(config.train.data)}`).slice(0, 120);
}

/** The text kept for "clone and edit": the user's own text, unless it carried infrastructure blocks (secrets), which are dropped. */
function sourceText(input: string | Record<string, unknown>): string {
  const raw = typeof input === "string" ? (parseYaml(input) as Record<string, unknown>) : input;
  if (typeof input === "string" && !LEGACY_SECRET_BLOCKS.some((k) => k in raw)) return input;
  return toYaml(Object.fromEntries(Object.entries(raw).filter(([k]) => !LEGACY_SECRET_BLOCKS.includes(k))));
}

export type CreateJobArgs = { name?: string; priority: Priority; config: string | Record<string, unknown>; retryOfId?: string };

/**
 * Validates the config, writes the row (QUEUED) and then the queue entry with jobId = row id.
 * If Redis refuses the entry the row is removed again and the caller gets 503: no QUEUED row
 * without a queue entry. A crash between the two is repaired by reconcileQueue().
 */
export async function createJob(user: SessionUser, projectId: string, args: CreateJobArgs, ip: string) {
  const { project } = await projectAccess(user, { id: projectId }, "job.create");
  const parsed = parseTrainingConfig(args.config);
  if (!parsed.ok) {
    const fields: Record<string, string[]> = {};
    for (const issue of parsed.issues) (fields[issue.path === "config" ? "config" : `config.${issue.path}`] ??= []).push(issue.message);
    throw new AppError("VALIDATION_FAILED", "The training config is invalid", fields);
  }
  const config = parsed.config;
  const job = await db.$transaction(async (tx) => {
    const row = await tx.trainingJob.create({
      data: {
        projectId: project.id,
        createdById: user.id,
        name: args.name ?? defaultName(config),
        config: config as Prisma.InputJsonValue,
        configSource: sourceText(args.config),
        priority: args.priority.toUpperCase() as "LOW" | "NORMAL" | "HIGH",
        model: config.model,
        task: config.task,
        totalEpochs: config.train.epochs,
        retryOfId: args.retryOfId,
      },
      select: jobSummarySelect,
    });
    await tx.jobEvent.create({ data: { jobId: row.id, kind: "queued", message: `Queued with ${args.priority} priority by ${user.name}` } });
    return row;
  });

  try {
    await enqueueTraining(job.id, args.priority);
  } catch (err) {
    logger.error({ err: { message: (err as Error).message }, jobId: job.id }, "enqueue failed; job row removed");
    await db.trainingJob.delete({ where: { id: job.id } }).catch((e: Error) => logger.error({ err: { message: e.message }, jobId: job.id }, "could not remove unqueued job row"));
    throw new AppError("SERVICE_UNAVAILABLE", "The job queue (Redis) is unavailable, so the job was not created. Try again shortly.");
  }

  await audit(db, { actorId: user.id, action: "job.create", targetType: "job", targetId: job.id, teamId: (await db.project.findUniqueOrThrow({ where: { id: project.id }, select: { teamId: true } })).teamId, ip });
  const summary = toJobSummary(job);
  emitJobUpdated(summary);
  return { job: summary, warnings: parsed.warnings };
}
