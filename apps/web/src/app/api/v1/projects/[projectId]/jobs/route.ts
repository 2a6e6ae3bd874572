import { createJobSchema, listJobsQuerySchema } from "@wyolo/contracts";
import { json, readQuery, withAuth } from "@/server/http";
import { CONFIG_BODY_TYPES, readConfigSubmission } from "@/server/jobs/config-input";
import { createJob } from "@/server/jobs/create-job";
import { listJobs } from "@/server/jobs/list-jobs";

type P = { projectId: string };

export const GET = withAuth<P>(async ({ req, user, params }) =>
  json(await listJobs(user, params.projectId, readQuery(req, listJobsQuerySchema))),
);

/**
 * JSON `{name?, priority?, config}` (config a mapping or YAML text), or a raw config.yaml with
 * ?name=&priority=. A config with `sweeper.tune: true` creates a sweep: `{ kind: "sweep", sweep, warnings }`.
 */
export const POST = withAuth<P>(
  async ({ req, user, params, ip }) =>
    json(await createJob(user, params.projectId, await readConfigSubmission(req, createJobSchema), ip), 201),
  { bodyTypes: CONFIG_BODY_TYPES },
);
