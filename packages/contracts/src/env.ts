import type { z } from "zod";

export class EnvError extends Error {
  override name = "EnvError";
}

/**
 * Parses env; throws an EnvError whose message names each bad variable (never its value).
 * An empty variable (`NAME=` in .env) counts as unset, so its default applies.
 */
export function parseEnv<S extends z.ZodType>(schema: S, source: Record<string, string | undefined>): z.infer<S> {
  const result = schema.safeParse(Object.fromEntries(Object.entries(source).filter(([, v]) => v !== "")));
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join(".") || "(env)"}: ${i.message}`);
  throw new EnvError(`Invalid environment configuration:\n${lines.join("\n")}`);
}

/** For process entry points: parse env, or print which variables are wrong and exit 1. */
export function parseEnvOrExit<S extends z.ZodType>(schema: S, source: Record<string, string | undefined>): z.infer<S> {
  try {
    return parseEnv(schema, source);
  } catch (err) {
    if (err instanceof EnvError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

/** The old Python service's variables (its README's control_host.env / user.env) → what Wyolo reads instead. */
const OLD_VARIABLES: Record<string, string> = {
  MINIO_ID: "S3_ACCESS_KEY_ID",
  MINIO_SECRET_KEY: "S3_SECRET_ACCESS_KEY",
  MINIO_ENDPOINT: "S3_ENDPOINT",
  REDIS_HOST: "REDIS_URL (redis://[:password@]host:port)",
  REDIS_PORT: "REDIS_URL (redis://[:password@]host:port)",
  REDIS_PASSWORD: "REDIS_URL (redis://:password@host:port)",
  TOPIC: "TRAINING_QUEUE",
};

export const OLD_VARIABLE_NAMES = Object.keys(OLD_VARIABLES);

/**
 * One warning per old-service variable that is set: Wyolo would otherwise ignore it silently, and a
 * team moving over would wonder why its MinIO or Redis settings do nothing.
 */
export function oldVariableWarnings(source: Record<string, string | undefined>): string[] {
  return Object.entries(OLD_VARIABLES)
    .filter(([name]) => source[name] !== undefined && source[name] !== "")
    .map(([name, instead]) => `\`${name}\` is not used by Wyolo: set ${instead}`);
}

const BYTE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * A memory size as Docker Compose writes it ("8G", "512m", "16GB", "1.5g") or plain bytes; binary units,
 * as Docker's. Null when it is not one.
 */
export function parseByteSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) return null;
  const bytes = Math.floor(Number(m[1]) * BYTE_UNITS[m[2]!.toLowerCase()]!);
  return bytes > 0 ? bytes : null;
}
