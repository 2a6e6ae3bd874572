import "server-only";
import { can, classMetricsSchema, datasetVersionLabel, type ClassMetrics } from "@wyolo/contracts";
import { env } from "@/env";
import { db } from "../db";
import type { SessionUser } from "../auth/session";
import { jobAccess } from "./job-access";
import { jobSummarySelect, toJobSummary } from "./job-summary";

export async function getJob(user: SessionUser, jobId: string) {
  const { role, team, project } = await jobAccess(user, jobId, "job.read");
  const row = await db.trainingJob.findUniqueOrThrow({
    where: { id: jobId },
    select: {
      ...jobSummarySelect,
      config: true,
      configSource: true,
      configSources: true,
      failureClass: true,
      logTail: true,
      bestEpoch: true,
      retryOfId: true,
      trialState: true,
      trialValue: true,
      prunedAtEpoch: true,
      classMetrics: true,
      datasetVersion: { select: { id: true, version: true, dataset: { select: { id: true, name: true } } } },
      events: { orderBy: { createdAt: "asc" }, select: { id: true, kind: true, message: true, createdAt: true } },
    },
  });
  const {
    config,
    configSource,
    configSources,
    failureClass,
    logTail,
    bestEpoch,
    retryOfId,
    trialState,
    trialValue,
    prunedAtEpoch,
    classMetrics,
    datasetVersion,
    events,
    ...summary
  } = row;
  const job = toJobSummary(summary);
  const own = summary.createdBy.id === user.id;
  return {
    job: {
      ...job,
      config,
      configSource,
      configSources: (configSources ?? {}) as Record<string, string>,
      failureClass,
      logTail,
      bestEpoch,
      retryOfId,
      trialState,
      trialValue,
      prunedAtEpoch,
      classMetrics: storedClassMetrics(classMetrics),
      dataset: datasetVersion
        ? {
            id: datasetVersion.dataset.id,
            name: datasetVersion.dataset.name,
            version: datasetVersion.version,
            versionId: datasetVersion.id,
            label: datasetVersionLabel(datasetVersion.dataset.name, datasetVersion.version),
          }
        : null,
    },
    events: events.map((e) => ({ ...e, createdAt: e.createdAt.toISOString() })),
    project: { id: project.id, name: project.name, slug: project.slug },
    team: { id: team.id, name: team.name, slug: team.slug },
    mlflow: { uiUrl: (env.MLFLOW_UI_URL ?? env.MLFLOW_TRACKING_URI ?? null)?.replace(/\/$/, "") ?? null },
    permissions: {
      cancel: can(role, "job.cancel.any") || (own && can(role, "job.cancel.own")),
      create: can(role, "job.create"),
    },
  };
}

/** The final validation's per-class metrics as the worker stored them; rows that do not read as ClassMetrics are left out. */
function storedClassMetrics(value: unknown): ClassMetrics[] | null {
  if (!Array.isArray(value)) return null;
  return value.flatMap((row) => {
    const parsed = classMetricsSchema.safeParse(row);
    return parsed.success ? [parsed.data] : [];
  });
}
