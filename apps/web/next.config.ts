import path from "node:path";
import type { NextConfig } from "next";

const config: NextConfig = {
  // The repo root, so the build traces files of the workspace packages.
  outputFileTracingRoot: path.join(import.meta.dirname, "../.."),
  turbopack: { root: path.join(import.meta.dirname, "../..") },
  transpilePackages: ["@wyolo/contracts", "@wyolo/db"],
  serverExternalPackages: ["pino", "ioredis", "bullmq", "pg", "@prisma/adapter-pg", "@node-rs/argon2", "rate-limiter-flexible"],
  poweredByHeader: false,
  typedRoutes: false,
};

export default config;
