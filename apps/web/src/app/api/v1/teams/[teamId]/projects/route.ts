import { createProjectSchema } from "@wyolo/contracts";
import { json, readJson, withAuth } from "@/server/http";
import { createProject } from "@/server/projects/create-project";
import { listProjects } from "@/server/projects/list-projects";

type P = { teamId: string };

export const GET = withAuth<P>(async ({ user, params }) => json({ projects: await listProjects(user, params.teamId) }));

export const POST = withAuth<P>(async ({ req, user, params, ip }) => {
  const input = await readJson(req, createProjectSchema);
  return json({ project: await createProject(user, params.teamId, input, ip) }, 201);
});
