import "server-only";
import { oldVariableWarnings, parseEnv, type ConfigDefaults } from "@wyolo/contracts";
import { webEnvSchema } from "./env-schema";

// `next build` evaluates route modules without the runtime's secrets; the server (server.ts)
// validates the real environment before it serves anything.
const building = process.env.NEXT_PHASE === "phase-production-build";

/** Parsed once at boot; a missing or bad variable stops the process with its name. */
export const env = parseEnv(
  webEnvSchema,
  building ? { NEXTAUTH_SECRET: "build-time-placeholder-secret-0000000000", ...process.env } : process.env,
);

// Once per process, even where a bundler evaluates this module more than once.
const warned = globalThis as { wyoloOldVariablesWarned?: boolean };
if (!building && !warned.wyoloOldVariablesWarned) {
  warned.wyoloOldVariablesWarned = true;
  for (const warning of oldVariableWarnings(process.env)) console.warn(JSON.stringify({ level: 40, name: "web", msg: warning }));
}

/** DEFAULT_EPOCHS / DEFAULT_BATCH_SIZE, for a config that leaves `train.epochs` / `train.batch` out (the form shows them too). */
export function platformDefaults(): ConfigDefaults {
  return { epochs: env.DEFAULT_EPOCHS, batch: env.DEFAULT_BATCH_SIZE };
}
