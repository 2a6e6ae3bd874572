import { withAuth } from "@/server/http";
import { downloadArtifact } from "@/server/artifacts/download-artifact";

/** Redirects to a presigned GET URL (DOWNLOAD_URL_TTL_SECONDS). `?format=json` answers the URL instead. */
export const GET = withAuth<{ jobId: string; artifactId: string }>(async ({ req, user, params, ip }) => {
  const url = await downloadArtifact(user, params.jobId, params.artifactId, ip);
  if (new URL(req.url).searchParams.get("format") === "json") return Response.json({ url });
  return new Response(null, { status: 302, headers: { location: url, "cache-control": "no-store" } });
});
