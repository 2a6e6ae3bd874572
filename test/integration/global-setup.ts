import { execFileSync } from "node:child_process";
import pg from "pg";
import { ADMIN_URL, ROOT, dbUrl, templateName } from "./db";

/**
 * Builds (once per migration set) a template database with every migration applied through the
 * real `prisma migrate deploy`; each test file then gets its own copy (per-file-setup.ts).
 * Two test runs starting together (CI and a developer, or parallel checkouts) take turns through
 * an advisory lock, so neither drops the other's half-built template.
 */
export default async function setup() {
  const template = templateName();
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query("SELECT pg_advisory_lock(hashtext('wyolo-test-template'))");
    const exists = (await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [template])).rowCount === 1;
    if (exists) return;
    const building = `${template}_building`;
    await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${building}"`);
    execFileSync("npx", ["prisma", "migrate", "deploy"], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: dbUrl(building), CHECKPOINT_DISABLE: "1" },
      stdio: "inherit",
    });
    await admin.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`);
  } finally {
    await admin.end(); // ends the session, and with it the advisory lock
  }
}
