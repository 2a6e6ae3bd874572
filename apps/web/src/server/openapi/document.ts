import { OpenApiGeneratorV31, OpenAPIRegistry, type RouteConfig } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import {
  DELIVERY_HEADER,
  ERROR_STATUS,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  SIGNATURE_TOLERANCE_SECONDS,
  WEBHOOK_EVENTS,
  type ErrorCode,
} from "@wyolo/contracts";
import { errorSchema, webhookPayloadSchema } from "./schemas";
import { API_OPERATIONS, type ApiOperation } from "./operations";

// The OpenAPI 3.1 document of /api/v1, generated from the zod schemas the routes parse with
// (request side) and the answer schemas in ./schemas (response side). One entry per route and
// method in ./operations; test/openapi*.test.ts checks it against the route files on disk.

export const API_BASE = "/api/v1";
type OpenAPIObject = ReturnType<OpenApiGeneratorV31["generateDocument"]>;
const PARAM = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/);
const YAML_TYPES = ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"];

const ERROR_WORDS: Partial<Record<number, string>> = {
  400: "Malformed request (not JSON, not UTF-8, nested too deep)",
  401: "No valid session or API token",
  403: "The role, the token's scopes or the origin do not allow this",
  404: "Not found, or in a team the caller is not in",
  409: "Conflicts with the object's current state",
  410: "Used or revoked",
  413: "Body larger than the route's limit",
  415: "Body of a media type the route does not take",
  422: "Invalid input; `error.fields` names each field",
  503: "Postgres or Redis is unavailable; retry after `Retry-After` seconds",
};
const CODE_OF_STATUS = new Map<number, ErrorCode>(Object.entries(ERROR_STATUS).map(([code, status]) => [status, code as ErrorCode]));

/** The error statuses an operation can answer: what its wrapper and inputs imply, plus its own. */
export function errorStatuses(op: ApiOperation): number[] {
  const out = new Set<number>(op.errors ?? []);
  if (op.auth !== "none") out.add(503);
  if (op.auth === "user") for (const st of [401, 403]) out.add(st);
  if (/\{\w+\}/.test(op.path)) out.add(404);
  if (op.body) for (const s of [400, 413, 415, 422]) out.add(s);
  if (op.query) out.add(422);
  return [...out].sort((a, b) => a - b);
}

function pathParams(path: string) {
  const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  return names.length ? z.object(Object.fromEntries(names.map((n) => [n, PARAM]))) : undefined;
}

type Requirement = Record<string, string[]>;
const SECURITY: Record<ApiOperation["auth"], Requirement[]> = {
  user: [{ bearer: [] }, { session: [] }],
  optional: [{}, { bearer: [] }, { session: [] }],
  none: [],
};

function routeConfig(op: ApiOperation): RouteConfig {
  const responses: RouteConfig["responses"] = {};
  for (const ok of op.ok) {
    responses[ok.status] = {
      description: ok.description,
      ...(ok.headers ? { headers: ok.headers } : {}),
      ...(ok.schema ? { content: { "application/json": { schema: ok.schema } } } : {}),
    };
  }
  for (const status of errorStatuses(op)) {
    const code = CODE_OF_STATUS.get(status);
    responses[status] = {
      description: `${code ?? status}: ${ERROR_WORDS[status] ?? "Error"}`,
      content: { "application/json": { schema: errorSchema } },
    };
  }
  const body = op.body;
  return {
    method: op.method,
    path: op.path,
    operationId: op.id,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    security: SECURITY[op.auth],
    request: {
      params: pathParams(op.path),
      query: op.query,
      ...(body
        ? {
            body: {
              required: !body.optional,
              content: {
                "application/json": { schema: body.json },
                ...(body.yaml ? Object.fromEntries(YAML_TYPES.map((t) => [t, { schema: { type: "string" as const } }])) : {}),
              },
            },
          }
        : {}),
    },
    responses,
  };
}

/** What a generic webhook receives for an event (OpenAPI 3.1 `webhooks`). */
function webhookConfig(event: string): RouteConfig {
  return {
    method: "post",
    path: event,
    operationId: `webhook_${event.replace(/\W/g, "_")}`,
    summary: `The \`${event}\` event`,
    description: `POSTed to a generic webhook's URL. Verify \`${SIGNATURE_HEADER}\` (t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the webhook's secret>) and refuse a \`t\` older than ${SIGNATURE_TOLERANCE_SECONDS} s. Slack webhooks get a formatted message instead.`,
    tags: ["Webhooks"],
    request: {
      headers: z.object({
        [SIGNATURE_HEADER]: z.string().describe("t=<unix seconds>,v1=<hex HMAC-SHA256>"),
        [EVENT_HEADER]: z.string().describe("The event name"),
        [DELIVERY_HEADER]: z.string().describe("The delivery's id; the same on a retry"),
      }),
      body: { required: true, content: { "application/json": { schema: webhookPayloadSchema } } },
    },
    responses: {
      200: {
        description:
          "Any 2xx acknowledges. Anything else, a redirect (never followed) or no answer within 10 s is retried with exponential backoff for up to 24 hours.",
      },
    },
  };
}

export function buildOpenApiDocument(): OpenAPIObject {
  const registry = new OpenAPIRegistry();
  registry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "wyolo_…",
    description: "An API token (`Authorization: Bearer wyolo_…`): Account → Tokens, or a team's Tokens page.",
  });
  registry.registerComponent("securitySchemes", "session", {
    type: "apiKey",
    in: "cookie",
    name: "next-auth.session-token",
    description:
      "The dashboard's session cookie (`__Secure-next-auth.session-token` over https). A change sent with it must come from the dashboard's origin.",
  });
  for (const op of API_OPERATIONS) registry.registerPath(routeConfig(op));
  for (const event of WEBHOOK_EVENTS) registry.registerWebhook(webhookConfig(event));
  const generator = new OpenApiGeneratorV31(registry.definitions, { sortComponents: "alphabetically" });
  return generator.generateDocument({
    openapi: "3.1.0",
    info: {
      title: "Wyolo API",
      version: "1",
      description:
        "Train Ultralytics YOLO and RT-DETR models on your own GPUs. Authenticate with an API token (`Authorization: Bearer wyolo_…`) or the dashboard's session. Errors always have the `Error` body. Live progress is on socket.io (see the README).",
    },
    servers: [{ url: API_BASE }],
    tags: [...new Set(API_OPERATIONS.map((o) => o.tag))].map((name) => ({ name })),
  });
}

let cached: { doc: OpenAPIObject; text: string } | undefined;

/** Built once per process: the document depends on the code only. */
export function openApiDocument(): { doc: OpenAPIObject; text: string } {
  if (!cached) {
    const doc = buildOpenApiDocument();
    cached = { doc, text: JSON.stringify(doc) };
  }
  return cached;
}
