import { json, withAuth } from "@/server/http";
import { trainBest } from "@/server/sweeps/train-best";

export const POST = withAuth<{ sweepId: string }>(async ({ user, params, ip }) => json(await trainBest(user, params.sweepId, ip), 201));
