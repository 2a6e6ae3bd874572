import { Validator } from "@seriousme/openapi-schema-validator";
import { beforeAll, describe, expect, it } from "vitest";
import type { ApiRoute } from "./api-world";

/**
 * The OpenAPI document of /api/v1: valid OpenAPI 3.1 (a maintained validator), one operation for
 * every route file and exported method on disk (the catch-all excepted) and none for a route that
 * is gone, and the served route answers it with an ETag.
 */
let helpers: typeof import("./api-world");
let routes: ApiRoute[];
let doc: Awaited<ReturnType<typeof import("@/server/openapi/document").openApiDocument>>["doc"];

beforeAll(async () => {
  helpers = await import("./api-world");
  routes = await helpers.loadApiRoutes();
  ({ doc } = (await import("@/server/openapi/document")).openApiDocument());
});

/** "teams/[teamId]/members" → "/teams/{teamId}/members". */
const openApiPath = (pattern: string) => `/${pattern.replace(/\[([^\]]+)\]/g, "{$1}")}`;
const CATCH_ALL = "[...path]";

describe("OpenAPI document", () => {
  it("is valid OpenAPI 3.1", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("documents every route and method on disk, and nothing else", () => {
    const onDisk = routes
      .filter((r) => r.pattern !== CATCH_ALL)
      .flatMap((r) => r.exportedMethods.map((m) => `${m} ${openApiPath(r.pattern)}`))
      .sort();
    const documented = Object.entries(doc.paths ?? {})
      .flatMap(([path, item]) =>
        Object.keys(item as object)
          .filter((k) => ["get", "post", "put", "patch", "delete"].includes(k))
          .map((m) => `${m.toUpperCase()} ${path}`),
      )
      .sort();
    expect(documented).toEqual(onDisk);
  });

  it("names each operation once, with a summary, a tag and at least one success answer", () => {
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths ?? {}))
      for (const [method, op] of Object.entries(
        item as Record<string, { operationId?: string; summary?: string; tags?: string[]; responses?: object }>,
      )) {
        const where = `${method} ${path}`;
        expect(op.operationId, where).toBeTruthy();
        expect(ids.has(op.operationId!), `${where}: operationId ${op.operationId} used twice`).toBe(false);
        ids.add(op.operationId!);
        expect(op.summary, where).toBeTruthy();
        expect(op.tags?.length, where).toBe(1);
        expect(
          Object.keys(op.responses ?? {}).some((s) => /^[23]\d\d$/.test(s)),
          where,
        ).toBe(true);
      }
  });

  it("is served at /api/v1/openapi.json, public and cacheable, and 304 for its ETag", async () => {
    const route = routes.find((r) => r.pattern === "openapi.json")!;
    const first = await route.handlers.GET!(new Request("http://localhost:3000/api/v1/openapi.json"), { params: Promise.resolve({}) });
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toContain("application/json");
    expect(first.headers.get("cache-control")).toContain("public");
    expect(await first.json()).toEqual(doc);
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await route.handlers.GET!(
      new Request("http://localhost:3000/api/v1/openapi.json", { headers: { "if-none-match": etag } }),
      {
        params: Promise.resolve({}),
      },
    );
    expect(again.status).toBe(304);
  });

  it("the reference page's assets come from swagger-ui-dist, and nothing else is served from there", async () => {
    const { GET } = await import("@/app/api-docs/assets/[file]/route");
    const get = (file: string) => GET(new Request(`http://localhost:3000/api-docs/assets/${file}`), { params: Promise.resolve({ file }) });
    const bundle = await get("swagger-ui-bundle.js");
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toContain("text/javascript");
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
    expect((await get("swagger-ui.css")).headers.get("content-type")).toContain("text/css");
    for (const other of ["index.html", "package.json", "..%2Fpackage.json", "swagger-initializer.js", "__proto__"])
      expect((await get(other)).status).toBe(404);
  });
});
