import { createVersionSchema } from "@wyolo/contracts";
import { json, readJson, withAuth } from "@/server/http";
import { createVersion } from "@/server/datasets/create-version";

/** A new version: an upload to fill through presigned part URLs, or one made from a parent. */
export const POST = withAuth<{ datasetId: string }>(async ({ req, user, params, ip }) => {
  const input = await readJson(req, createVersionSchema);
  return json(await createVersion(user, params.datasetId, input, ip), 201);
});
