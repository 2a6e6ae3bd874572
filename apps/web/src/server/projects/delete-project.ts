import "server-only";
import { ACTIVE_STATUSES } from "@wyolo/contracts";
import { db } from "../db";
import { audit } from "../audit";
import { projectAccess } from "../access";
import { AppError } from "../errors";
import type { SessionUser } from "../auth/session";

/** Refused while the project has jobs that are not finished, so no worker writes into a deleted project. */
export async function deleteProject(user: SessionUser, projectId: string, ip: string) {
  const { project } = await projectAccess(user, { id: projectId }, "project.delete");
  await db.$transaction(async (tx) => {
    const active = await tx.trainingJob.count({ where: { projectId: project.id, status: { in: [...ACTIVE_STATUSES] } } });
    if (active > 0) throw new AppError("CONFLICT", `Cancel the project's ${active} active job(s) first`);
    await tx.project.delete({ where: { id: project.id } });
    await audit(tx, {
      actorId: user.id,
      action: "project.delete",
      targetType: "project",
      targetId: project.id,
      teamId: project.teamId,
      ip,
      metadata: { slug: project.slug },
    });
  });
}
