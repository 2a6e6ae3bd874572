import { json, withAuth } from "@/server/http";
import { listTrainingOptions } from "@/server/workers/training-options";

/** Architectures, and the weights and datasets the online workers reported, for the submit form's pickers. */
export const GET = withAuth(async () => json(await listTrainingOptions()));
