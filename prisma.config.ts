import path from "node:path";
import { defineConfig } from "prisma/config";
import { MigratePg } from "./packages/db/src/migrate-adapter";

const databaseUrl = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/wyolo";
process.env.DATABASE_URL = databaseUrl;

// The JS schema engine runs migrations through a driver adapter, so no native engine binary
// is downloaded: `npm run db:migrate` works offline (see docs/ARCHITECTURE.md, "Prisma").
export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations"), seed: "tsx prisma/seed.ts" },
  adapter: async () => new MigratePg(databaseUrl),
});
