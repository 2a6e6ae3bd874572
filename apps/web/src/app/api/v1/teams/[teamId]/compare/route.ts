import { compareQuerySchema } from "@wyolo/contracts";
import { json, readQuery, withAuth } from "@/server/http";
import { compareJobs } from "@/server/compare/compare-jobs";

/** `?jobs=<id>,<id>…`: 2–20 jobs of the team's projects, side by side. */
export const GET = withAuth<{ teamId: string }>(async ({ req, user, params }) =>
  json(await compareJobs(user, params.teamId, readQuery(req, compareQuerySchema).jobs)),
);
