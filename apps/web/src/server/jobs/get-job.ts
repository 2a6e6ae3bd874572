import "server-only";
import { can } from "@wyolo/contracts";
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
