import { updateProjectSchema } from "@wyolo/contracts";
import { json, noContent, readJson, withAuth } from "@/server/http";
import { projectAccess } from "@/server/access";
import { updateProject } from "@/server/projects/update-project";
import { deleteProject } from "@/server/projects/delete-project";

type P = { projectId: string };

export const GET = withAuth<P>(async ({ user, params }) => {
  const { project, team, role } = await projectAccess(user, { id: params.projectId }, "project.read");
  return json({ project: { ...project, team, role } });
});

export const PATCH = withAuth<P>(async ({ req, user, params, ip }) => {
  const input = await readJson(req, updateProjectSchema);
  return json({ project: await updateProject(user, params.projectId, input, ip) });
});

export const DELETE = withAuth<P>(async ({ user, params, ip }) => {
  await deleteProject(user, params.projectId, ip);
  return noContent();
});
