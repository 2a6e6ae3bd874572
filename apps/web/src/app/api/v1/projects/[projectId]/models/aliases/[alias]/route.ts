import { aliasSchema, setAliasSchema } from "@wyolo/contracts";
import { z } from "zod";
import { json, noContent, parseWith, readJson, withAuth } from "@/server/http";
import { setAlias } from "@/server/models/set-alias";
import { deleteAlias } from "@/server/models/delete-alias";

type P = { projectId: string; alias: string };
const aliasParam = z.object({ alias: aliasSchema });

export const PUT = withAuth<P>(async ({ req, user, params, ip }) => {
  const { alias } = parseWith(aliasParam, params);
  const input = await readJson(req, setAliasSchema);
  return json({ alias: await setAlias(user, params.projectId, alias, input, ip) });
});

export const DELETE = withAuth<P>(async ({ user, params, ip }) => {
  const { alias } = parseWith(aliasParam, params);
  await deleteAlias(user, params.projectId, alias, ip);
  return noContent();
});
