import { json, withAuth } from "@/server/http";
import { retryJob } from "@/server/jobs/retry-job";

export const POST = withAuth<{ jobId: string }>(async ({ user, params, ip }) => json(await retryJob(user, params.jobId, ip), 201));
