import { createDatasetSchema } from "@wyolo/contracts";
import { json, readJson, withAuth } from "@/server/http";
import { createDataset } from "@/server/datasets/create-dataset";
import { listDatasets } from "@/server/datasets/list-datasets";

type P = { teamId: string };

export const GET = withAuth<P>(async ({ user, params }) => json(await listDatasets(user, params.teamId)));

export const POST = withAuth<P>(async ({ req, user, params, ip }) => {
  const input = await readJson(req, createDatasetSchema);
  return json({ dataset: await createDataset(user, params.teamId, input, ip) }, 201);
});
