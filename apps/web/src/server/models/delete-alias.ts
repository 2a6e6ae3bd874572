import "server-only";
import { queueRegistryCall } from "@wyolo/db";
import { db } from "../db";
import { audit } from "../audit";
import { projectAccess } from "../access";
import { notFound } from "../errors";
import type { SessionUser } from "../auth/session";

/** Removes an alias from the project's model (and, through the outbox, from MLflow). */
export async function deleteAlias(user: SessionUser, projectId: string, alias: string, ip: string) {
  const { project } = await projectAccess(user, { id: projectId }, "model.alias");
  await db.$transaction(async (tx) => {
    const model = await tx.registeredModel.findUnique({ where: { projectId: project.id }, select: { id: true, name: true } });
    const existing = model
      ? await tx.modelAlias.findUnique({
          where: { modelId_alias: { modelId: model.id, alias } },
          select: { version: { select: { version: true } } },
        })
      : null;
    if (!model || !existing) throw notFound(`No alias "${alias}" on this project's model`);
    await tx.modelAlias.delete({ where: { modelId_alias: { modelId: model.id, alias } } });
    await queueRegistryCall(tx, model.id, { kind: "delete_alias", alias });
    await audit(tx, {
      actorId: user.id,
      action: "model.alias.delete",
      targetType: "model",
      targetId: model.id,
      teamId: project.teamId,
      ip,
      metadata: { model: model.name, alias, version: existing.version.version },
    });
  });
}
