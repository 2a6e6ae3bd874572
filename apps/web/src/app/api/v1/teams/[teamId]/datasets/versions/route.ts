import { json, withAuth } from "@/server/http";
import { listTrainableVersions } from "@/server/datasets/list-trainable-versions";

/** The team's READY, unarchived versions, for the submit form's picker. */
export const GET = withAuth<{ teamId: string }>(async ({ user, params }) =>
  json({ versions: await listTrainableVersions(user, params.teamId) }),
);
