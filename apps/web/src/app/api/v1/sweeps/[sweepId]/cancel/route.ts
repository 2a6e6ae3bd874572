import { json, withAuth } from "@/server/http";
import { cancelSweep } from "@/server/sweeps/cancel-sweep";

export const POST = withAuth<{ sweepId: string }>(async ({ user, params, ip }) =>
  json({ sweep: await cancelSweep(user, params.sweepId, ip) }, 202),
);
