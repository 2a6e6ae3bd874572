import { z } from "zod";
import { createJobSchema, jobNameSchema, listJobsQuerySchema, PRIORITIES } from "@wyolo/contracts";
import { checkYamlText, json, JSON_TYPE, MAX_CONFIG_BYTES, readJson, readQuery, readText, withAuth, YAML_TYPES } from "@/server/http";
import { createJob } from "@/server/jobs/create-job";
import { listJobs } from "@/server/jobs/list-jobs";

type P = { projectId: string };

export const GET = withAuth<P>(async ({ req, user, params }) =>
  json(await listJobs(user, params.projectId, readQuery(req, listJobsQuerySchema))),
);

const yamlQuerySchema = z.object({ name: jobNameSchema.optional(), priority: z.enum(PRIORITIES).default("normal") });
const isYaml = (req: Request) =>
  (YAML_TYPES as readonly string[]).includes(req.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() ?? "");

/** JSON `{name?, priority?, config}` (config a mapping or YAML text), or a raw config.yaml with ?name=&priority=. */
export const POST = withAuth<P>(
  async ({ req, user, params, ip }) => {
    const input = isYaml(req)
      ? { ...readQuery(req, yamlQuerySchema), config: await readText(req, { limit: MAX_CONFIG_BYTES, types: YAML_TYPES }) }
      : await readJson(req, createJobSchema);
    if (typeof input.config === "string") checkYamlText(input.config, "config");
    return json(await createJob(user, params.projectId, input, ip), 201);
  },
  { bodyTypes: [JSON_TYPE, ...YAML_TYPES] },
);
