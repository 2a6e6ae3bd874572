import "server-only";
import { db } from "../db";
import { teamAccess } from "../access";
import type { SessionUser } from "../auth/session";
import { projectSelect } from "./create-project";

export async function listProjects(user: SessionUser, teamId: string) {
  const { team } = await teamAccess(user, { id: teamId }, "project.read");
  const projects = await db.project.findMany({
    where: { teamId: team.id },
    select: { ...projectSelect, _count: { select: { jobs: true } } },
    orderBy: { name: "asc" },
  });
  return projects.map(({ _count, ...p }) => ({ ...p, jobCount: _count.jobs }));
}
