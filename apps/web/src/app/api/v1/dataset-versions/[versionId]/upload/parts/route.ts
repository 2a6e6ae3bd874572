import { signPartsSchema } from "@wyolo/contracts";
import { json, readJson, withAuth } from "@/server/http";
import { signUpload } from "@/server/datasets/get-upload";

/** Fresh presigned URLs for some parts of an open upload. */
export const POST = withAuth<{ versionId: string }>(async ({ req, user, params }) => {
  const { partNumbers } = await readJson(req, signPartsSchema);
  return json({ parts: await signUpload(user, params.versionId, partNumbers) });
});
