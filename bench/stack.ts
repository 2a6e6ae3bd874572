// What the benchmarks share: a database prepared as a fresh install prepares it, the built web
// app, and the servers they run as child processes (stopped together).
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const PG_ADMIN = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const BENCH_ADMIN = { email: "admin@bench.test", password: "bench-admin-password" };
export const benchDbUrl = (name: string) => `${PG_ADMIN.replace(/\/[^/]*$/, "")}/${name}`;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A command to its end; a non-zero exit rejects. */
export function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<void>((resolve, reject) => {
    const c = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
    c.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}`))));
  });
}

/** Reset, migrate and seed (the bench admin only) a database of the bench's own. */
export async function prepareBenchDatabase(dbUrl: string) {
  await run("npx", ["tsx", "scripts/db.ts", "reset"], { DATABASE_URL: dbUrl });
  await run("npx", ["prisma", "migrate", "deploy"], { DATABASE_URL: dbUrl, CHECKPOINT_DISABLE: "1" });
  await run("npx", ["tsx", "prisma/seed.ts"], {
    DATABASE_URL: dbUrl,
    ADMIN_EMAIL: BENCH_ADMIN.email,
    ADMIN_PASSWORD: BENCH_ADMIN.password,
    SEED_DEMO: "false",
  });
}

/** Builds the web app unless a build is there (NEXT_DIST_DIR, as the server reads it). */
export async function ensureWebBuild() {
  if (!existsSync(path.join(ROOT, "apps/web", process.env.NEXT_DIST_DIR || ".next", "BUILD_ID")))
    await run("npm", ["run", "build", "-w", "@wyolo/web"], { NEXT_TELEMETRY_DISABLED: "1" });
}

/** Node child processes (web app, workers), stopped together. */
export class Processes {
  readonly children: ChildProcess[] = [];

  start(args: string[], env: Record<string, string>): ChildProcess {
    const c = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "ignore", "inherit"],
    });
    this.children.push(c);
    return c;
  }

  /** The built web app on 127.0.0.1:port, answering once /api/health does. */
  async startWeb(port: number, env: Record<string, string>): Promise<ChildProcess> {
    const base = `http://127.0.0.1:${port}`;
    const web = this.start(["--import", "./apps/web/server-only-shim.mjs", "--import", "tsx", "apps/web/server.ts"], {
      NODE_ENV: "production",
      PORT: String(port),
      HOSTNAME: "127.0.0.1",
      NEXTAUTH_URL: base,
      NEXTAUTH_SECRET: "bench-secret-bench-secret-bench-secret-00",
      ...env,
    });
    for (let i = 0; ; i++) {
      if (
        await fetch(`${base}/api/health`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return web;
      if (i > 300) throw new Error("web server did not start");
      await sleep(200);
    }
  }

  async stopAll() {
    // A child already ended by a signal (the worker-loss figure SIGKILLs some) has no exit to wait for.
    await Promise.all(
      this.children.map((c) =>
        c.exitCode === null && c.signalCode === null ? (c.kill("SIGTERM"), new Promise((r) => c.on("exit", r))) : null,
      ),
    );
  }
}

/**
 * A team (slug `bench`) with one project, the bench admin as its OWNER and a personal token of the
 * admin with `scopes`, written as the API writes them. Returns the admin's id and the token.
 */
export async function seedBenchTeam(
  db: { query: (sql: string, params?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }> },
  project: { name: string; slug: string },
  scopes: string[],
): Promise<{ adminId: string; token: string }> {
  const adminId = (await db.query(`SELECT id FROM "User" WHERE email = $1`, [BENCH_ADMIN.email])).rows[0]!.id as string;
  await db.query(`INSERT INTO "Team" (id, name, slug, "updatedAt") VALUES ('benchteam', 'Bench', 'bench', now())`);
  await db.query(
    `INSERT INTO "Membership" (id, "teamId", "userId", role, "updatedAt") VALUES ('benchmember', 'benchteam', $1, 'OWNER', now())`,
    [adminId],
  );
  await db.query(`INSERT INTO "Project" (id, "teamId", name, slug, "updatedAt") VALUES ('benchproject', 'benchteam', $1, $2, now())`, [
    project.name,
    project.slug,
  ]);
  const token = `wyolo_${randomBytes(32).toString("base64url")}`;
  await db.query(
    `INSERT INTO "ApiToken" (id, kind, name, prefix, "tokenHash", scopes, "userId", "expiresAt") VALUES ('benchtoken', 'PERSONAL', 'bench', $1, $2, $3, $4, now() + interval '1 day')`,
    [token.slice(0, 14), createHash("sha256").update(token).digest("hex"), scopes, adminId],
  );
  return { adminId, token };
}
