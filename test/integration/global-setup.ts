import { execFileSync } from "node:child_process";
import { ROOT, dbUrl, templateName, withAdmin } from "./db";

/**
 * Builds (once per migration set) a template database with every migration applied through the
 * real `prisma migrate deploy`; each test file then gets its own copy (per-file-setup.ts).
 */
export default async function setup() {
  const template = templateName();
  const exists = await withAdmin(async (c) => (await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [template])).rowCount === 1);
  if (exists) return;
  const building = `${template}_building`;
  await withAdmin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${building}"`);
  });
  execFileSync("npx", ["prisma", "migrate", "deploy"], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: dbUrl(building), CHECKPOINT_DISABLE: "1" },
    stdio: "inherit",
  });
  await withAdmin((c) => c.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`));
}
