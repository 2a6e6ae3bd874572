import { json, withAuth } from "@/server/http";
import { listArtifacts } from "@/server/artifacts/download-artifact";

export const GET = withAuth<{ jobId: string }>(async ({ user, params }) => json({ artifacts: await listArtifacts(user, params.jobId) }));
