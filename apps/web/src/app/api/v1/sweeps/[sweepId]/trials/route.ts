import { addTrialsSchema } from "@wyolo/contracts";
import { json, readJson, withAuth } from "@/server/http";
import { addTrials } from "@/server/sweeps/add-trials";

export const POST = withAuth<{ sweepId: string }>(async ({ req, user, params, ip }) => {
  const { count } = await readJson(req, addTrialsSchema);
  return json({ sweep: await addTrials(user, params.sweepId, count, ip) });
});
