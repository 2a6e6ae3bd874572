import { listModelVersionsQuerySchema } from "@wyolo/contracts";
import { json, readQuery, withAuth } from "@/server/http";
import { listModels } from "@/server/models/list-models";

type P = { projectId: string };

export const GET = withAuth<P>(async ({ req, user, params }) => {
  const query = readQuery(req, listModelVersionsQuerySchema);
  return json(await listModels(user, params.projectId, query));
});
