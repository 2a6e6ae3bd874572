import "server-only";
import { type createTeamSchema, slugify } from "@wyolo/contracts";
import type { z } from "zod";
import { db } from "../db";
import { audit } from "../audit";
import { AppError } from "../errors";
import { withFreeSlug } from "../unique";
import type { SessionUser } from "../auth/session";

/** Any signed-in user may create a team; they become its OWNER. */
export async function createTeam(user: SessionUser, input: z.infer<typeof createTeamSchema>, ip: string) {
  const base = input.slug ?? slugify(input.name);
  if (base.length < 2)
    throw new AppError("VALIDATION_FAILED", "Choose a slug", { slug: ["Name has too few letters for a slug; choose one"] });
  return withFreeSlug(base, input.slug !== undefined, (slug) =>
    db.$transaction(async (tx) => {
      const team = await tx.team.create({
        data: { name: input.name, slug },
        select: { id: true, name: true, slug: true, createdAt: true },
      });
      await tx.membership.create({ data: { teamId: team.id, userId: user.id, role: "OWNER" } });
      await audit(tx, { actorId: user.id, action: "team.create", targetType: "team", targetId: team.id, teamId: team.id, ip });
      return { ...team, role: "OWNER" as const };
    }),
  );
}
