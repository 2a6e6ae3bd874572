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
