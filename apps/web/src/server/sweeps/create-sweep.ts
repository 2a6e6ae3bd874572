import "server-only";
import { isDeepStrictEqual } from "node:util";
import {
  defaultSearchSpace,
  parseTrainingConfig,
  type ConfigSources,
  type Priority,
  type SweepSettings,
  type SweepSummary,
  type TrainingConfig,
} from "@wyolo/contracts";
import { parse as parseYaml } from "yaml";
import { newId, type Prisma } from "@wyolo/db";
import { db } from "../db";
import { projectAccess, type ProjectAccess } from "../access";
import { audit } from "../audit";
import { AppError } from "../errors";
import { logger } from "../logger";
import { emitSweepUpdated } from "../realtime/emitter";
import type { SessionUser } from "../auth/session";
import { checkWeightsRefs } from "../jobs/check-weights-refs";
import { defaultName, invalidConfig, namesTask, sourceText } from "../jobs/config-input";
import { resolveDatasetRef } from "../datasets/resolve-dataset-ref";
import { platformDefaults } from "@/env";
import { enqueueSweepAdvance } from "./enqueue-advance";
import { sweepSummarySelect, toSweepSummary } from "./sweep-summary";

export type CreateSweepArgs = { name?: string; priority: Priority; config: string | Record<string, unknown> };
type ParsedSweep = { config: TrainingConfig; sweep: SweepSettings; warnings: string[]; sources: ConfigSources };

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Submitting to the sweeps endpoint implies `tune`: a config without a `sweeper` block (or with
 * `tune: false`) gets `tune: true`, so the defaults apply. Anything that is not a mapping is left
 * to the parser, which names the problem (with its line for broken YAML).
 */
function withTune(input: string | Record<string, unknown>): unknown {
  let raw: unknown = input;
  if (typeof input === "string") {
    try {
      raw = parseYaml(input, { maxAliasCount: 50 });
    } catch {
      return input;
    }
  }
  if (!isMapping(raw)) return input;
  const sweeper = raw.sweeper ?? {};
  return isMapping(sweeper) ? { ...raw, sweeper: { ...sweeper, tune: true } } : raw;
}

/** POST /projects/{id}/sweeps: the config with its `sweeper` block becomes a sweep (QUEUED) and its first advance step. */
export async function createSweep(user: SessionUser, projectId: string, args: CreateSweepArgs, ip: string) {
  const access = await projectAccess(user, { id: projectId }, "sweep.create");
  const parsed = parseTrainingConfig(withTune(args.config), { defaults: platformDefaults() });
  if (!parsed.ok) throw invalidConfig(parsed.issues);
  return insertSweep(
    user,
    access,
    { config: parsed.config, sweep: parsed.sweep!, warnings: parsed.warnings, sources: parsed.sources },
    args,
    ip,
  );
}

/**
 * Writes the sweep (and its audit entry), then queues its first advance step. If Redis refuses
 * the entry the sweep is removed again and the caller gets 503, as a job submission does; a
 * crash between the two is covered by the reconciler, which asks an advance for every active sweep.
 */
export async function insertSweep(
  user: SessionUser,
  { project, team }: ProjectAccess,
  parsed: ParsedSweep,
  args: CreateSweepArgs,
  ip: string,
): Promise<{ sweep: SweepSummary; warnings: string[]; sources: ConfigSources }> {
  const { config, warnings, sources } = parsed;
  const settings = { ...parsed.sweep };
  const { modelJob } = await checkWeightsRefs(user, team.id, config);
  // A fine-tune keeps the task of the job it starts from, unless the config names one; a default
  // search space follows the task (classification has no box losses).
  if (modelJob && !namesTask(args.config) && modelJob.task !== config.task) {
    if (isDeepStrictEqual(settings.search_space, defaultSearchSpace(config.task)))
      settings.search_space = defaultSearchSpace(modelJob.task);
    config.task = modelJob.task;
  }
  // The sweep's trials train on the exact version (`@latest` resolved now, checked for the team).
  await resolveDatasetRef(team.id, config);
  const id = newId();
  const name = (args.name ?? settings.study_name ?? `${defaultName(config, modelJob?.name)} · sweep`).slice(0, 120);
  const row = await db.$transaction(async (tx) => {
    const created = await tx.sweep.create({
      data: {
        id,
        projectId: project.id,
        createdById: user.id,
        name,
        priority: args.priority.toUpperCase() as "LOW" | "NORMAL" | "HIGH",
        config: config as unknown as Prisma.InputJsonValue,
        settings: settings as unknown as Prisma.InputJsonValue,
        configSource: sourceText(args.config),
        configSources: sources,
        nTrials: settings.n_trials,
        parallel: settings.parallel,
        deadlineAt: settings.timeout ? new Date(Date.now() + settings.timeout * 1000) : null,
      },
      select: sweepSummarySelect,
    });
    await audit(tx, { actorId: user.id, action: "sweep.create", targetType: "sweep", targetId: id, teamId: team.id, ip });
    return created;
  });

  try {
    await enqueueSweepAdvance(id, "created");
  } catch (err) {
    logger.error({ err: { message: (err as Error).message }, sweepId: id }, "sweep advance not queued; sweep removed");
    await db
      .$transaction([db.sweep.deleteMany({ where: { id } }), db.auditLog.deleteMany({ where: { targetId: id, action: "sweep.create" } })])
      .catch((e: Error) => logger.error({ err: { message: e.message }, sweepId: id }, "could not remove unqueued sweep"));
    throw new AppError("SERVICE_UNAVAILABLE", "The job queue (Redis) is unavailable, so the sweep was not created. Try again shortly.");
  }

  const sweep = toSweepSummary(row);
  emitSweepUpdated(sweep);
  return { sweep, warnings, sources };
}
