import "server-only";
import { z } from "zod";
import {
  isDatasetRef,
  jobNameSchema,
  PRIORITIES,
  type ConfigIssue,
  type Priority,
  type createJobSchema,
  type createSweepSchema,
  type TrainingConfig,
} from "@wyolo/contracts";
import { stringify as toYaml, parse as parseYaml } from "yaml";
import { AppError } from "../errors";
import { checkYamlText, JSON_TYPE, MAX_CONFIG_BYTES, readJson, readQuery, readText, YAML_TYPES } from "../http";

// What a job and a sweep submission share: a config given as a mapping or YAML/JSON text.

const LEGACY_SECRET_BLOCKS = ["mlflow", "minio", "redis"];

/** "yolo11n · shapes" from yolo11n.pt and shapes/data.yaml; a fine-tune is named after the job it starts from. */
export function defaultName(config: TrainingConfig, modelJobName?: string): string {
  const base = (p: string) => {
    if (isDatasetRef(p)) return p.trim().slice("dataset:".length);
    const parts = p.replace(/\/+$/, "").split("/");
    const name = parts.pop()!.replace(/\.(pt|ya?ml)$/, "");
    return ["data", "dataset"].includes(name) && parts.length ? parts.pop()! : name;
  };
  const from = modelJobName ? `from ${modelJobName}` : base(config.model);
  return (config.task_id ?? `${from} · ${base(config.train.data)}`).slice(0, 120);
}

/**
 * The text kept for "clone and edit": the user's own YAML/JSON text, or a mapping as JSON (valid
 * YAML too). Infrastructure blocks of legacy configs (they carry secrets) are dropped first.
 */
export function sourceText(input: string | Record<string, unknown>): string {
  const raw = typeof input === "string" ? (parseYaml(input) as Record<string, unknown>) : input;
  const hasSecrets = LEGACY_SECRET_BLOCKS.some((k) => k in raw);
  if (typeof input === "string" && !hasSecrets) return input;
  const kept = hasSecrets ? Object.fromEntries(Object.entries(raw).filter(([k]) => !LEGACY_SECRET_BLOCKS.includes(k))) : raw;
  return typeof input === "string" ? toYaml(kept) : JSON.stringify(kept, null, 2);
}

export function namesTask(input: string | Record<string, unknown>): boolean {
  const raw: unknown = typeof input === "string" ? parseYaml(input) : input;
  return typeof raw === "object" && raw !== null && Object.hasOwn(raw, "task");
}

/** The parser's issues as the API's 422, each under `config.<path>`. */
export function invalidConfig(issues: ConfigIssue[]): AppError {
  const fields: Record<string, string[]> = {};
  for (const issue of issues) (fields[issue.path === "config" ? "config" : `config.${issue.path}`] ??= []).push(issue.message);
  return new AppError("VALIDATION_FAILED", "The training config is invalid", fields);
}

export const CONFIG_BODY_TYPES = [JSON_TYPE, ...YAML_TYPES];
const yamlQuerySchema = z.object({ name: jobNameSchema.optional(), priority: z.enum(PRIORITIES).default("normal") });
const isYaml = (req: Request) =>
  (YAML_TYPES as readonly string[]).includes(req.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() ?? "");

/**
 * A job or sweep submission: JSON `{name?, priority?, config}` (config a mapping or YAML text), or
 * a raw config.yaml with ?name=&priority=. YAML text is checked like a JSON body.
 */
export async function readConfigSubmission(
  req: Request,
  schema: typeof createJobSchema | typeof createSweepSchema,
): Promise<{ name?: string; priority: Priority; config: string | Record<string, unknown> }> {
  const input: { name?: string; priority: Priority; config: string | Record<string, unknown> } = isYaml(req)
    ? { ...readQuery(req, yamlQuerySchema), config: await readText(req, { limit: MAX_CONFIG_BYTES, types: YAML_TYPES }) }
    : await readJson(req, schema);
  if (typeof input.config === "string") checkYamlText(input.config, "config");
  return input;
}
