import { json, withAuth } from "@/server/http";
import { getJob } from "@/server/jobs/get-job";

export const GET = withAuth<{ jobId: string }>(async ({ user, params }) => json(await getJob(user, params.jobId)));
