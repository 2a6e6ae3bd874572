import { updateVersionSchema } from "@wyolo/contracts";
import { json, noContent, readJson, withAuth } from "@/server/http";
import { deleteVersion } from "@/server/datasets/delete-version";
import { getVersion } from "@/server/datasets/get-version";
import { updateVersion } from "@/server/datasets/update-version";

type P = { versionId: string };

export const GET = withAuth<P>(async ({ user, params }) => json({ version: await getVersion(user, params.versionId) }));

export const PATCH = withAuth<P>(async ({ req, user, params, ip }) => {
  const input = await readJson(req, updateVersionSchema);
  return json({ version: await updateVersion(user, params.versionId, input, ip) });
});

export const DELETE = withAuth<P>(async ({ user, params, ip }) => {
  await deleteVersion(user, params.versionId, ip);
  return noContent();
});
