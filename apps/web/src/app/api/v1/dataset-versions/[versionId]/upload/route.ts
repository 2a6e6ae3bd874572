import { json, noContent, withAuth } from "@/server/http";
import { abortUpload } from "@/server/datasets/abort-upload";
import { getUpload } from "@/server/datasets/get-upload";

type P = { versionId: string };

export const GET = withAuth<P>(async ({ user, params }) => json({ upload: await getUpload(user, params.versionId) }));

export const DELETE = withAuth<P>(async ({ user, params, ip }) => {
  await abortUpload(user, params.versionId, ip);
  return noContent();
});
