import { datasetItemsQuerySchema } from "@wyolo/contracts";
import { json, readQuery, withAuth } from "@/server/http";
import { listItems } from "@/server/datasets/list-items";

export const GET = withAuth<{ versionId: string }>(async ({ req, user, params }) =>
  json(await listItems(user, params.versionId, readQuery(req, datasetItemsQuerySchema))),
);
