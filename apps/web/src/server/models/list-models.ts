import "server-only";
import { defaultModelName, type ModelLineage, type ModelsAnswer, type listModelVersionsQuerySchema } from "@wyolo/contracts";
import type { z } from "zod";
import { env } from "@/env";
import { db } from "../db";
import { allows, projectAccess } from "../access";
import type { SessionUser } from "../auth/session";

/** A project's registered model: settings, aliases and versions newest first (a page of them). */
export async function listModels(
  user: SessionUser,
  projectId: string,
  query: z.infer<typeof listModelVersionsQuerySchema>,
): Promise<ModelsAnswer> {
  const access = await projectAccess(user, { id: projectId }, "project.read");
  const project = await db.project.findUniqueOrThrow({
    where: { id: access.project.id },
    select: {
      slug: true,
      registerModels: true,
      modelName: true,
      registeredModel: {
        select: {
          id: true,
          name: true,
          createdAt: true,
          aliases: { select: { alias: true, version: { select: { id: true, version: true, jobId: true } } }, orderBy: { alias: "asc" } },
          _count: { select: { calls: true } },
        },
      },
    },
  });
  const model = project.registeredModel;
  const versions = model
    ? await db.modelVersion.findMany({
        where: { modelId: model.id, ...(query.before ? { version: { lt: query.before } } : {}) },
        orderBy: { version: "desc" },
        take: query.limit,
        select: {
          id: true,
          version: true,
          createdAt: true,
          createdBy: { select: { id: true, name: true } },
          job: { select: { id: true, name: true, status: true, artifacts: { where: { name: "weights/best.pt" }, select: { id: true } } } },
          metrics: true,
          bestMetric: true,
          bestMetricName: true,
          lineage: true,
          dataset: true,
          configHash: true,
          mlflowVersion: true,
        },
      })
    : [];
  const aliasesOf = new Map<string, string[]>();
  for (const a of model?.aliases ?? []) aliasesOf.set(a.version.id, [...(aliasesOf.get(a.version.id) ?? []), a.alias]);
  return {
    settings: {
      registerModels: project.registerModels,
      modelName: project.modelName,
      effectiveName: model?.name ?? project.modelName ?? defaultModelName(access.team.slug, project.slug),
    },
    model: model ? { id: model.id, name: model.name, createdAt: model.createdAt.toISOString() } : null,
    aliases: (model?.aliases ?? []).map((a) => ({
      alias: a.alias,
      version: a.version.version,
      versionId: a.version.id,
      jobId: a.version.jobId,
    })),
    versions: versions.map((v) => ({
      id: v.id,
      version: v.version,
      createdAt: v.createdAt.toISOString(),
      createdBy: v.createdBy,
      job: v.job ? { id: v.job.id, name: v.job.name, status: v.job.status } : null,
      artifactId: v.job?.artifacts[0]?.id ?? null,
      metrics: v.metrics as Record<string, number | null>,
      bestMetric: v.bestMetric,
      bestMetricName: v.bestMetricName,
      lineage: v.lineage as ModelLineage,
      dataset: v.dataset,
      configHash: v.configHash,
      aliases: aliasesOf.get(v.id) ?? [],
      mlflowVersion: v.mlflowVersion,
    })),
    pendingMirrorCalls: model?._count.calls ?? 0,
    can: { alias: allows(access, "model.alias"), settings: allows(access, "project.update") },
    mlflow: { uiUrl: (env.MLFLOW_UI_URL ?? env.MLFLOW_TRACKING_URI ?? null)?.replace(/\/$/, "") ?? null },
  };
}
