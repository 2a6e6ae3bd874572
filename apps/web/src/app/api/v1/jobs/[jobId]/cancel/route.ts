import { json, withAuth } from "@/server/http";
import { cancelJob } from "@/server/jobs/cancel-job";

export const POST = withAuth<{ jobId: string }>(async ({ user, params, ip }) =>
  json({ job: await cancelJob(user, params.jobId, ip) }, 202),
);
