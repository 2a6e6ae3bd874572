import "server-only";
import { can, parseTrainingConfig, scopeFor, type Priority } from "@wyolo/contracts";
import { platformDefaults } from "@/env";
import { newId } from "@wyolo/db";
import { db } from "../db";
import { allows, projectAccess } from "../access";
import { auditMetadata } from "../audit";
import { AppError, forbidden } from "../errors";
import { logger } from "../logger";
import { emitJobUpdated } from "../realtime/emitter";
import type { SessionUser } from "../auth/session";
import { enqueueTraining } from "./enqueue";
import { toJobSummary } from "./job-summary";
import { checkWeightsRefs } from "./check-weights-refs";
import { defaultName, invalidConfig, namesTask, sourceText } from "./config-input";
import { insertSweep } from "../sweeps/create-sweep";
import { resolveDatasetRef } from "../datasets/resolve-dataset-ref";

type JobInsertRow = { id: string; createdAt: Date };

export type CreateJobArgs = { name?: string; priority: Priority; config: string | Record<string, unknown>; retryOfId?: string };

/**
 * Validates the config (one with `sweeper.tune: true` becomes a sweep), writes the row (QUEUED) and then the queue entry with jobId = row id.
 * If Redis refuses the entry the row is removed again and the caller gets 503: no QUEUED row
 * without a queue entry. A crash between the two is repaired by reconcileQueue().
 */
export async function createJob(user: SessionUser, projectId: string, args: CreateJobArgs, ip: string) {
  const access = await projectAccess(user, { id: projectId }, "job.create");
  const { project, team } = access;
  const parsed = parseTrainingConfig(args.config, { defaults: platformDefaults() });
  if (!parsed.ok) throw invalidConfig(parsed.issues);
  const { sources } = parsed;
  // `sweeper.tune: true` makes the submission a sweep; a retry is always the one job again.
  if (parsed.sweep && !args.retryOfId) {
    if (!can(access.role, "sweep.create")) throw forbidden();
    if (!allows(access, "sweep.create")) throw forbidden(`This token lacks the "${scopeFor("sweep.create")}" scope`);
    const created = await insertSweep(
      user,
      access,
      { config: parsed.config, sweep: parsed.sweep, warnings: parsed.warnings, sources },
      args,
      ip,
    );
    return { kind: "sweep" as const, ...created };
  }
  const config = parsed.config;
  const { modelJob } = await checkWeightsRefs(user, team.id, config);
  // A fine-tune keeps the task of the job it starts from, unless the config names one.
  if (modelJob && !namesTask(args.config)) config.task = modelJob.task;
  // `dataset:<name>@latest` becomes the exact version, which the row records.
  const { datasetVersionId } = await resolveDatasetRef(team.id, config);
  // The row, its first timeline entry and the audit entry in one statement: submission is the
  // hottest write path, and this keeps it to a single round trip.
  const jobId = newId();
  const name = args.name ?? defaultName(config, modelJob?.name);
  const priority = args.priority.toUpperCase();
  const tokenAudit = auditMetadata();
  const auditJson = tokenAudit === undefined ? null : JSON.stringify(tokenAudit);
  const [row] = await db.$queryRaw<JobInsertRow[]>`
    WITH job AS (
      INSERT INTO "TrainingJob" ("id", "projectId", "createdById", "name", "config", "configSource", "configSources", "priority", "model", "task", "totalEpochs", "retryOfId", "datasetVersionId", "updatedAt")
      VALUES (${jobId}, ${project.id}, ${user.id}, ${name}, ${JSON.stringify(config)}::jsonb, ${sourceText(args.config)}, ${JSON.stringify(sources)}::jsonb, ${priority}::"JobPriority",
              ${config.model}, ${config.task}, ${config.train.epochs}, ${args.retryOfId ?? null}, ${datasetVersionId}, now())
      RETURNING "id", "createdAt"
    ), event AS (
      INSERT INTO "JobEvent" ("id", "jobId", "kind", "message") SELECT ${newId()}, "id", 'queued', ${`Queued with ${args.priority} priority by ${user.name}`} FROM job
    ), audit AS (
      INSERT INTO "AuditLog" ("id", "actorId", "action", "targetType", "targetId", "teamId", "ip", "metadata")
      SELECT ${newId()}, ${user.id}, 'job.create', 'job', "id", ${team.id}, ${ip}, ${auditJson}::jsonb FROM job
    )
    SELECT "id", "createdAt" FROM job`;
  const job = {
    id: jobId,
    projectId: project.id,
    name,
    status: "QUEUED" as const,
    priority: priority as "LOW" | "NORMAL" | "HIGH",
    model: config.model,
    task: config.task,
    currentEpoch: null,
    totalEpochs: config.train.epochs,
    progress: 0,
    etaSeconds: null,
    bestMetric: null,
    bestMetricName: null,
    attempt: 0,
    workerName: null,
    failureReason: null,
    createdAt: row!.createdAt,
    startedAt: null,
    finishedAt: null,
    cancelRequestedAt: null,
    heartbeatAt: null,
    mlflowExperimentId: null,
    mlflowRunId: null,
    trackingDelayed: false,
    createdBy: { id: user.id, name: user.name },
  };

  try {
    await enqueueTraining(job.id, args.priority);
  } catch (err) {
    logger.error({ err: { message: (err as Error).message }, jobId: job.id }, "enqueue failed; job row removed");
    await db
      .$transaction([
        db.trainingJob.deleteMany({ where: { id: job.id } }),
        db.auditLog.deleteMany({ where: { targetId: job.id, action: "job.create" } }),
      ])
      .catch((e: Error) => logger.error({ err: { message: e.message }, jobId: job.id }, "could not remove unqueued job row"));
    throw new AppError("SERVICE_UNAVAILABLE", "The job queue (Redis) is unavailable, so the job was not created. Try again shortly.");
  }

  const summary = toJobSummary(job);
  emitJobUpdated(summary);
  return { kind: "job" as const, job: summary, warnings: parsed.warnings, sources };
}
