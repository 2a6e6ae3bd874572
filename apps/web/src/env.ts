import "server-only";
import { parseEnv } from "@wyolo/contracts";
import { webEnvSchema } from "./env-schema";

// `next build` evaluates route modules without the runtime's secrets; the server (server.ts)
// validates the real environment before it serves anything.
const building = process.env.NEXT_PHASE === "phase-production-build";

/** Parsed once at boot; a missing or bad variable stops the process with its name. */
export const env = parseEnv(
  webEnvSchema,
  building ? { NEXTAUTH_SECRET: "build-time-placeholder-secret-0000000000", ...process.env } : process.env,
);
