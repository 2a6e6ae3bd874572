import "server-only";
import { queueRegistryCall } from "@wyolo/db";
import type { SetAliasInput } from "@wyolo/contracts";
import { db } from "../db";
import { audit } from "../audit";
import { projectAccess } from "../access";
import { AppError, notFound } from "../errors";
import type { SessionUser } from "../auth/session";

/** Points an alias (champion, staging…) at a version; moves it when set. MLflow gets the same through the outbox. */
export async function setAlias(user: SessionUser, projectId: string, alias: string, input: SetAliasInput, ip: string) {
  const { project } = await projectAccess(user, { id: projectId }, "model.alias");
  return db.$transaction(async (tx) => {
    const model = await tx.registeredModel.findUnique({ where: { projectId: project.id }, select: { id: true, name: true } });
    if (!model) throw notFound("This project has no registered model yet: a succeeded job makes its first version");
    const version = await tx.modelVersion.findUnique({
      where: { modelId_version: { modelId: model.id, version: input.version } },
      select: { id: true, version: true, jobId: true },
    });
    if (!version)
      throw new AppError("VALIDATION_FAILED", "Some fields are invalid", { version: [`${model.name} has no version ${input.version}`] });
    const previous = await tx.modelAlias.findUnique({
      where: { modelId_alias: { modelId: model.id, alias } },
      select: { version: { select: { version: true } } },
    });
    await tx.modelAlias.upsert({
      where: { modelId_alias: { modelId: model.id, alias } },
      create: { modelId: model.id, alias, versionId: version.id, updatedById: user.id },
      update: { versionId: version.id, updatedById: user.id },
    });
    await queueRegistryCall(tx, model.id, { kind: "set_alias", alias, versionId: version.id });
    await audit(tx, {
      actorId: user.id,
      action: "model.alias.set",
      targetType: "model",
      targetId: model.id,
      teamId: project.teamId,
      ip,
      metadata: { model: model.name, alias, version: version.version, previousVersion: previous?.version.version ?? null },
    });
    return { alias, version: version.version, versionId: version.id, jobId: version.jobId };
  });
}
