import { json, withAuth } from "@/server/http";
import { jobResources } from "@/server/jobs/job-resources";

export const GET = withAuth<{ jobId: string }>(async ({ user, params }) => json({ samples: await jobResources(user, params.jobId) }));
