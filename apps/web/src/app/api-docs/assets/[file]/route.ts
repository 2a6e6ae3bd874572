import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

// Swagger UI's browser bundle and stylesheet, served from the installed swagger-ui-dist package:
// the reference page loads nothing from another origin, so it works offline and under the CSP.
// (The build does not trace these reads: the runtime keeps node_modules, see Dockerfile.web.)
const FILES: Record<string, string> = {
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui.css": "text/css; charset=utf-8",
};

let packageDir: string | null | undefined;

/** node_modules/swagger-ui-dist in the working directory or above it (npm hoists it to the workspace root). */
function swaggerUiDir(): string | null {
  if (packageDir !== undefined) return packageDir;
  packageDir = null;
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", "swagger-ui-dist");
    if (existsSync(path.join(/*turbopackIgnore: true*/ candidate, "swagger-ui-bundle.js"))) return (packageDir = candidate);
    if (path.dirname(dir) === dir) return null;
  }
}

const cache = new Map<string, Buffer>();

export async function GET(_req: Request, ctx: { params: Promise<{ file: string }> }): Promise<Response> {
  const { file } = await ctx.params;
  const type = Object.hasOwn(FILES, file) ? FILES[file] : undefined;
  const dir = swaggerUiDir();
  if (!type || !dir) return new Response("Not found", { status: 404, headers: { "content-type": "text/plain" } });
  let body = cache.get(file);
  if (!body) cache.set(file, (body = readFileSync(path.join(/*turbopackIgnore: true*/ dir, file))));
  return new Response(new Uint8Array(body), {
    headers: { "content-type": type, "cache-control": "public, max-age=86400", "x-content-type-options": "nosniff" },
  });
}
