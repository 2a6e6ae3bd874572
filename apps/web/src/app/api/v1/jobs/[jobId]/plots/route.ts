import { json, withAuth } from "@/server/http";
import { listPlots } from "@/server/jobs/list-plots";

/** The job's plot images with presigned GET links (≤ 5 min) for the gallery. */
export const GET = withAuth<{ jobId: string }>(async ({ user, params }) => json(await listPlots(user, params.jobId)));
