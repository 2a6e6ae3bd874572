import { createSweepSchema } from "@wyolo/contracts";
import { json, readQuery, withAuth } from "@/server/http";
import { CONFIG_BODY_TYPES, readConfigSubmission } from "@/server/jobs/config-input";
import { createSweep } from "@/server/sweeps/create-sweep";
import { listSweeps, listSweepsQuerySchema } from "@/server/sweeps/list-sweeps";

type P = { projectId: string };

export const GET = withAuth<P>(async ({ req, user, params }) =>
  json(await listSweeps(user, params.projectId, readQuery(req, listSweepsQuerySchema))),
);

/** JSON `{name?, priority?, config}` or a raw config.yaml with ?name=&priority=; `sweeper.tune` is implied. */
export const POST = withAuth<P>(
  async ({ req, user, params, ip }) =>
    json(await createSweep(user, params.projectId, await readConfigSubmission(req, createSweepSchema), ip), 201),
  { bodyTypes: CONFIG_BODY_TYPES },
);
