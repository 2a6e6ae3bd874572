import { z } from "zod";
import { createJobSchema, jobNameSchema, listJobsQuerySchema, PRIORITIES } from "@wyolo/contracts";
import { json, parseWith, readJson, readQuery, withAuth } from "@/server/http";
import { AppError } from "@/server/errors";
import { createJob } from "@/server/jobs/create-job";
import { listJobs } from "@/server/jobs/list-jobs";

type P = { projectId: string };

export const GET = withAuth<P>(async ({ req, user, params }) => json(await listJobs(user, params.projectId, readQuery(req, listJobsQuerySchema))));

const yamlQuerySchema = z.object({ name: jobNameSchema.optional(), priority: z.enum(PRIORITIES).default("normal") });
const YAML_TYPES = /^(application|text)\/(x-)?yaml\b/;

/** JSON `{name?, priority?, config}` (config a mapping or YAML text), or a raw config.yaml with ?name=&priority=. */
export const POST = withAuth<P>(async ({ req, user, params, ip }) => {
  let input;
  if (YAML_TYPES.test(req.headers.get("content-type") ?? "")) {
    const text = await req.text();
    if (text.length > 100_000) throw new AppError("BAD_REQUEST", "Config is larger than 100 kB");
    input = { ...readQuery(req, yamlQuerySchema), config: text };
  } else {
    input = parseWith(createJobSchema, await readJson(req, z.unknown()));
  }
  return json(await createJob(user, params.projectId, input, ip), 201);
});
