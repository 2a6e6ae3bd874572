import { logsQuerySchema } from "@wyolo/contracts";
import { json, readQuery, withAuth } from "@/server/http";
import { jobLogs } from "@/server/jobs/job-metrics";

export const GET = withAuth<{ jobId: string }>(async ({ req, user, params }) => {
  const { after, limit } = readQuery(req, logsQuerySchema);
  return json(await jobLogs(user, params.jobId, after, limit));
});
