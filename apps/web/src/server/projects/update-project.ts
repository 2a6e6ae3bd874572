import "server-only";
import type { updateProjectSchema } from "@wyolo/contracts";
import type { z } from "zod";
import { db } from "../db";
import { audit } from "../audit";
import { projectAccess } from "../access";
import type { SessionUser } from "../auth/session";
import { projectSelect } from "./create-project";

export async function updateProject(user: SessionUser, projectId: string, input: z.infer<typeof updateProjectSchema>, ip: string) {
  const { project } = await projectAccess(user, { id: projectId }, "project.update");
  return db.$transaction(async (tx) => {
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
