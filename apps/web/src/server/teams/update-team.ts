import "server-only";
import type { updateTeamSchema } from "@wyolo/contracts";
import type { z } from "zod";
import { db } from "../db";
import { audit } from "../audit";
import { teamAccess } from "../access";
import type { SessionUser } from "../auth/session";

export async function updateTeam(user: SessionUser, teamId: string, input: z.infer<typeof updateTeamSchema>, ip: string) {
  const { team } = await teamAccess(user, { id: teamId }, "team.update");
  return db.$transaction(async (tx) => {
    const updated = await tx.team.update({
      where: { id: team.id },
      data: { name: input.name },
      select: { id: true, name: true, slug: true },
    });
    await audit(tx, {
      actorId: user.id,
      action: "team.update",
      targetType: "team",
      targetId: team.id,
      teamId: team.id,
      ip,
      metadata: { name: input.name },
    });
    return updated;
  });
}
