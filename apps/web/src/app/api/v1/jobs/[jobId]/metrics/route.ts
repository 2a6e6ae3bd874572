import { json, withAuth } from "@/server/http";
import { jobMetrics } from "@/server/jobs/job-metrics";

export const GET = withAuth<{ jobId: string }>(async ({ user, params }) => json({ epochs: await jobMetrics(user, params.jobId) }));
