import { json, withAuth } from "@/server/http";
import { getSweep } from "@/server/sweeps/get-sweep";

export const GET = withAuth<{ sweepId: string }>(async ({ user, params }) => json(await getSweep(user, params.sweepId)));
