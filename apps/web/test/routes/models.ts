import { registerSucceededJob } from "@wyolo/db";
import type { BaseWorld, World } from "../api-world";
import type { MatrixEntries, SuccessEntries } from "./types";

// The models routes' lines in the route-wide tests (role matrix, OpenAPI answers, outages), and the
// objects of the test world they need (made by seed, found at world.models). Server modules are
// imported when used: the route-wide tests set the environment before they load any.
const server = () => import("@/server/db");

/** The world's ended job (SUCCEEDED, with best.pt) registered as version 1 of the main project's model, aliased `champion`. */
export async function seed(base: BaseWorld) {
  const { db } = await server();
  const job = await db.trainingJob.findUniqueOrThrow({ where: { id: base.jobs.ended.id } });
  const registered = await db.$transaction((tx) => registerSucceededJob(tx, job));
  if (!registered) throw new Error("the world's ended job was not registered");
  const model = await db.registeredModel.findUniqueOrThrow({ where: { projectId: base.project.id }, select: { id: true } });
  await db.modelAlias.create({ data: { modelId: model.id, alias: "champion", versionId: registered.versionId } });
  return { modelId: model.id, versionId: registered.versionId };
}

/** `alias` pointing at version 1 again (a DELETE before may have removed it). */
async function aliased(w: World, alias: string) {
  const { db } = await server();
  await db.modelAlias.upsert({
    where: { modelId_alias: { modelId: w.models.modelId, alias } },
    create: { modelId: w.models.modelId, alias, versionId: w.models.versionId },
    update: {},
  });
  return { params: { projectId: w.project.id, alias } };
}

const ALIAS = "projects/[projectId]/models/aliases/[alias]";

export const success: SuccessEntries = {
  "GET projects/[projectId]/models": (w) => ({ params: { projectId: w.project.id }, query: "limit=10" }),
  [`PUT ${ALIAS}`]: (w) => ({ params: { projectId: w.project.id, alias: "staging" }, body: { version: 1 } }),
  [`DELETE ${ALIAS}`]: (w) => aliased(w, "old"),
};
export const matrix: MatrixEntries = {
  "projects/[projectId]/models": {
    GET: { access: { kind: "team", permission: "project.read" }, prepare: (w) => ({ params: { projectId: w.project.id } }) },
  },
  [ALIAS]: {
    PUT: {
      access: { kind: "team", permission: "model.alias" },
      prepare: (w) => ({ params: { projectId: w.project.id, alias: "staging" }, body: { version: 1 } }),
    },
    DELETE: { access: { kind: "team", permission: "model.alias" }, prepare: (w) => aliased(w, "old") },
  },
};
/** Path parameters (beyond the shared world's) and bodies for the outage test's calls. */
export const outageIds = (_w: World): Record<string, string> => ({ alias: "champion" });
export const outageBodies = (_w: World): Record<string, unknown> => ({ [`PUT ${ALIAS}`]: { version: 1 } });
/** Routes of this domain that need Redis (503 while it is away). */
export const needsRedis: string[] = [];
