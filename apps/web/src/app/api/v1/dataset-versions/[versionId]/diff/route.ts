import { datasetDiffQuerySchema } from "@wyolo/contracts";
import { json, readQuery, withAuth } from "@/server/http";
import { diffVersions } from "@/server/datasets/diff-versions";

export const GET = withAuth<{ versionId: string }>(async ({ req, user, params }) =>
  json(await diffVersions(user, params.versionId, readQuery(req, datasetDiffQuerySchema).against)),
);
