import path from "node:path";
import type { NextConfig } from "next";

const config: NextConfig = {
  // Several checkouts' builds side by side (parallel e2e runs): set the same NEXT_DIST_DIR for the build and the server.
  distDir: process.env.NEXT_DIST_DIR || ".next",
  // The repo root, so the build traces files of the workspace packages.
  outputFileTracingRoot: path.join(import.meta.dirname, "../.."),
  turbopack: { root: path.join(import.meta.dirname, "../..") },
  transpilePackages: ["@wyolo/contracts", "@wyolo/db"],
  serverExternalPackages: ["pino", "ioredis", "bullmq", "pg", "@prisma/adapter-pg", "@node-rs/argon2", "rate-limiter-flexible"],
  poweredByHeader: false,
  // Compression belongs to the reverse proxy in front (TLS too); per-response gzip here cost ~5%
  // of the API's CPU in the submission benchmark (docs/benchmarks.md).
  compress: false,
  typedRoutes: false,
  // The build checks the app only; tests are typechecked by `npm run typecheck` (a half-written
  // test must not break a production build).
  typescript: { tsconfigPath: "tsconfig.build.json" },
};

export default config;
