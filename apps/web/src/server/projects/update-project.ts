import "server-only";
import { defaultModelName, type updateProjectSchema } from "@wyolo/contracts";
import { queueRegistryCall, type DbTx } from "@wyolo/db";
import type { z } from "zod";
import { db } from "../db";
import { audit } from "../audit";
import { projectAccess } from "../access";
import { AppError } from "../errors";
import { projectSelect } from "./create-project";
import type { SessionUser } from "../auth/session";

/**
 * A registered model name is global in MLflow: no other project's model may have it, be set to
 * it, or default to it (`<team slug>/<project slug>`).
 */
async function checkNameFree(tx: DbTx, projectId: string, name: string) {
  const [teamSlug, projectSlug, ...rest] = name.split("/");
  const [taken, named, defaulted] = await Promise.all([
    tx.registeredModel.count({ where: { name, projectId: { not: projectId } } }),
    tx.project.count({ where: { modelName: name, id: { not: projectId } } }),
    rest.length === 0 && projectSlug
      ? tx.project.count({ where: { slug: projectSlug, team: { slug: teamSlug }, modelName: null, id: { not: projectId } } })
      : 0,
  ]);
  if (taken + named + defaulted > 0)
    throw new AppError("VALIDATION_FAILED", "Some fields are invalid", { modelName: ["Another project's model has this name"] });
}

export async function updateProject(user: SessionUser, projectId: string, input: z.infer<typeof updateProjectSchema>, ip: string) {
  const { project, team } = await projectAccess(user, { id: projectId }, "project.update");
  return db.$transaction(async (tx) => {
    if (input.modelName !== undefined) {
      const current = await tx.project.findUniqueOrThrow({
        where: { id: project.id },
        select: { modelName: true, registeredModel: { select: { id: true, name: true } } },
      });
      const name = input.modelName ?? defaultModelName(team.slug, project.slug);
      // Team slugs are unique: a name under the team's own prefix can never be another team's model (here or in MLflow).
      if (!name.startsWith(`${team.slug}/`) || name.length === team.slug.length + 1)
        throw new AppError("VALIDATION_FAILED", "Some fields are invalid", {
          modelName: [`Start the name with your team's "${team.slug}/", e.g. ${team.slug}/detector`],
        });
      const model = current.registeredModel;
      const before = model?.name ?? current.modelName ?? defaultModelName(team.slug, project.slug);
      if (name !== before) await checkNameFree(tx, project.id, name);
      // The model keeps its versions under its new name; MLflow renames it after the calls before this one.
      if (model && model.name !== name) {
        await tx.registeredModel.update({ where: { id: model.id }, data: { name } });
        await queueRegistryCall(tx, model.id, { kind: "rename", from: model.name, to: name });
      }
    }
    const updated = await tx.project.update({ where: { id: project.id }, data: input, select: projectSelect });
    await audit(tx, {
      actorId: user.id,
      action: "project.update",
      targetType: "project",
      targetId: project.id,
      teamId: project.teamId,
      ip,
      metadata: input,
    });
    return updated;
  });
}
