import type { Api } from "./api.ts";
import { CliError, EXIT } from "./errors.ts";
import type { Project, Team } from "./types.ts";

export type ProjectRef = { project: Project; team: Team };

/**
 * `team/project` (slugs, as in the dashboard's URLs) or a project id. Without one: the default
 * (WYOLO_PROJECT or `wyolo login --project`), else the only project the token can see.
 */
export async function resolveProject(api: Api, ref: string | undefined): Promise<ProjectRef> {
  const { teams } = await api.get<{ teams: Team[] }>("/teams");
  if (ref) {
    const [teamSlug, projectSlug, ...rest] = ref.split("/");
    if (projectSlug !== undefined && rest.length === 0 && teamSlug) {
      const team = teams.find((t) => t.slug === teamSlug);
      if (!team) throw new CliError(`No team "${teamSlug}" (yours: ${teams.map((t) => t.slug).join(", ") || "none"})`, EXIT.ERROR);
      const { projects } = await api.get<{ projects: Project[] }>(`/teams/${team.id}/projects`);
      const project = projects.find((p) => p.slug === projectSlug);
      if (!project)
        throw new CliError(
          `No project "${projectSlug}" in team ${team.slug} (its projects: ${projects.map((p) => p.slug).join(", ") || "none"})`,
          EXIT.ERROR,
        );
      return { project, team };
    }
    if (ref.includes("/")) throw new CliError(`--project takes team/project or a project id, not "${ref}"`, EXIT.USAGE);
    const { project } = await api.get<{ project: Project & { team: Team } }>(`/projects/${encodeURIComponent(ref)}`);
    return { project, team: project.team };
  }
  const all: ProjectRef[] = [];
  for (const team of teams) {
    const { projects } = await api.get<{ projects: Project[] }>(`/teams/${team.id}/projects`);
    for (const project of projects) all.push({ project, team });
  }
  if (all.length === 1) return all[0]!;
  const names = all.map((r) => `${r.team.slug}/${r.project.slug}`);
  throw new CliError(
    all.length
      ? `Name the project with --project team/project (or set WYOLO_PROJECT); yours: ${names.slice(0, 10).join(", ")}${names.length > 10 ? ", …" : ""}`
      : "This token sees no project: create one in the dashboard first",
    EXIT.USAGE,
  );
}
