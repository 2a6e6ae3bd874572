import { z } from "zod";
import { json, readJson, withAuth } from "@/server/http";
import { createExport, listExports } from "@/server/exports/create-export";

export const GET = withAuth<{ jobId: string }>(async ({ user, params }) => json(await listExports(user, params.jobId)));

/** Body: { format, imgsz?, batch?, half?, int8?, dynamic?, opset? }. 201 with the new export, 200 with an existing identical one. */
export const POST = withAuth<{ jobId: string }>(async ({ req, user, params, ip }) => {
  // Not JSON → 400 here; the options themselves are checked after access (other teams get 404).
  const body = await readJson(req, z.unknown());
  const result = await createExport(user, params.jobId, body, ip);
  return json({ export: result.export }, result.created ? 201 : 200);
});
