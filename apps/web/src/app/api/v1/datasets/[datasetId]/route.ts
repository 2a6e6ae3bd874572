import { updateDatasetSchema } from "@wyolo/contracts";
import { json, noContent, readJson, withAuth } from "@/server/http";
import { deleteDataset } from "@/server/datasets/delete-dataset";
import { getDataset } from "@/server/datasets/get-dataset";
import { updateDataset } from "@/server/datasets/update-dataset";

type P = { datasetId: string };

export const GET = withAuth<P>(async ({ user, params }) => json({ dataset: await getDataset(user, params.datasetId) }));

export const PATCH = withAuth<P>(async ({ req, user, params, ip }) => {
  const input = await readJson(req, updateDatasetSchema);
  return json({ dataset: await updateDataset(user, params.datasetId, input, ip) });
});

export const DELETE = withAuth<P>(async ({ user, params, ip }) => {
  await deleteDataset(user, params.datasetId, ip);
  return noContent();
});
