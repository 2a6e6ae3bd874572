import { completeUploadSchema } from "@wyolo/contracts";
import { json, readJson, withAuth } from "@/server/http";
import { completeUpload } from "@/server/datasets/complete-upload";

export const POST = withAuth<{ versionId: string }>(async ({ req, user, params, ip }) => {
  const input = await readJson(req, completeUploadSchema);
  return json({ version: await completeUpload(user, params.versionId, input, ip) });
});
