import "server-only";
import { slugify, type createProjectSchema } from "@wyolo/contracts";
import type { z } from "zod";
import { db } from "../db";
import { audit } from "../audit";
import { teamAccess } from "../access";
import { AppError } from "../errors";
import { withFreeSlug } from "../unique";
import type { SessionUser } from "../auth/session";

export const projectSelect = {
  id: true,
  teamId: true,
  name: true,
  slug: true,
  description: true,
  createdAt: true,
  updatedAt: true,
} as const;

export async function createProject(user: SessionUser, teamId: string, input: z.infer<typeof createProjectSchema>, ip: string) {
  const { team } = await teamAccess(user, { id: teamId }, "project.create");
  const base = input.slug ?? slugify(input.name);
  if (base.length < 2)
    throw new AppError("VALIDATION_FAILED", "Choose a slug", { slug: ["Name has too few letters for a slug; choose one"] });
  return withFreeSlug(base, input.slug !== undefined, (slug) =>
    db.$transaction(async (tx) => {
      const project = await tx.project.create({
        data: { teamId: team.id, name: input.name, slug, description: input.description, createdById: user.id },
        select: projectSelect,
      });
      await audit(tx, { actorId: user.id, action: "project.create", targetType: "project", targetId: project.id, teamId: team.id, ip });
      return project;
    }),
  );
}
