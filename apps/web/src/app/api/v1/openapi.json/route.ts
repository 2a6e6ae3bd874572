import { createHash } from "node:crypto";
import { openApiDocument } from "@/server/openapi/document";

// Public and read without credentials (no session lookup): the document says what the API is,
// not what is in it, and stays available while Postgres or Redis is away.
let etag: string | undefined;

export function GET(req: Request): Response {
  const { text } = openApiDocument();
  etag ??= `"${createHash("sha256").update(text).digest("base64url").slice(0, 27)}"`;
  const headers = { etag, "cache-control": "public, max-age=300" };
  if (
    req.headers
      .get("if-none-match")
      ?.split(/\s*,\s*/)
      .includes(etag)
  )
    return new Response(null, { status: 304, headers });
  return new Response(text, { status: 200, headers: { ...headers, "content-type": "application/json" } });
}
