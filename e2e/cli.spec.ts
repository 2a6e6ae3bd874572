import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { expect, test, type APIRequestContext } from "@playwright/test";
import pg from "pg";
import { E2E_BASE_URL } from "../playwright.config";
import { ADMIN, FROM_DASHBOARD, signInThroughApi } from "./helpers";

// The `wyolo` CLI against the running stack (scripts/e2e-server.sh: web, a worker with the
// fixture trainer and exporter, s3rver), as a CI script would use it: a token, the old service's
// config.yaml as it is, --follow to the job's end, download with the checksum checked. No browser.

const ROOT = path.resolve(import.meta.dirname, "..");
const BIN = path.join(ROOT, "packages/cli/bin/wyolo.js");
const DB_URL = `${(process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres").replace(/\/[^/]*$/, "")}/${process.env.E2E_DATABASE ?? "wyolo_e2e"}`;
const S3_ENDPOINT = `http://127.0.0.1:${process.env.E2E_S3_PORT ?? 4579}`;

// The old service's README example (wyoloservice2_worker), verbatim: 100 epochs, its MLflow,
// MinIO and Redis blocks, an absolute dataset path and a sweeper block with tune: false
// (test/fixtures/old-readme-config.yaml, shared with the integration test of those configs).
const OLD_CONFIG = readFileSync(path.join(ROOT, "test/fixtures/old-readme-config.yaml"), "utf8");

/** Only PATH from this process: the CLI sees what a user's shell would give it, nothing of the test's. */
const bareEnv = (vars: Record<string, string>) => ({ PATH: process.env.PATH!, ...vars }) as unknown as NodeJS.ProcessEnv;

type Result = { code: number | null; stdout: string; stderr: string };

/** Runs `wyolo …` as a separate process, as a shell would, with its own config folder. */
function wyolo(args: string[], opts: { env?: Record<string, string>; input?: string; cwd?: string } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? home,
      env: bareEnv({ HOME: home, XDG_CONFIG_HOME: path.join(home, "config"), ...opts.env }),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.stdin.end(opts.input ?? "");
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

let home: string;
let token: string;
let teamSlug: string;
let db: pg.Client;

/** A personal token of the admin, made as a user makes one (Account → Tokens, through its API): shown once. */
async function createToken(request: APIRequestContext, scopes: string[]): Promise<{ token: string; id: string }> {
  const res = await request.post("/api/v1/account/tokens", {
    data: { name: `cli e2e ${Date.now()}`, scopes, expiresInDays: 1 },
    headers: FROM_DASHBOARD,
  });
  expect(res.status()).toBe(201);
  const { token, summary } = await res.json();
  return { token, id: summary.id };
}

test.beforeAll(async ({ request }) => {
  home = mkdtempSync(path.join(os.tmpdir(), "wyolo-cli-e2e-"));
  db = new pg.Client({ connectionString: DB_URL });
  await db.connect();
  await signInThroughApi(request, ADMIN.email, ADMIN.password);
  const stamp = Date.now().toString(36);
  teamSlug = `cli-${stamp}`;
  const team = (
    await (await request.post("/api/v1/teams", { data: { name: `CLI ${stamp}`, slug: teamSlug }, headers: FROM_DASHBOARD })).json()
  ).team;
  expect(
    (
      await request.post(`/api/v1/teams/${team.id}/projects`, { data: { name: "Shapes", slug: "shapes" }, headers: FROM_DASHBOARD })
    ).status(),
  ).toBe(201);
  token = (await createToken(request, ["read", "jobs:write", "sweeps:write"])).token;
});

test.afterAll(async () => {
  await db?.end();
});

test("login → the old config.yaml through wyolo train → follow to SUCCEEDED → download best, sha256 checked", async ({ request }) => {
  test.setTimeout(180_000);
  // login: the token from stdin, checked with the server, stored 0600.
  const login = await wyolo(["login", "--url", E2E_BASE_URL, "--token-stdin", "--project", `${teamSlug}/shapes`], { input: `${token}\n` });
  expect(login.stderr).toBe("");
  expect(login.code).toBe(0);
  expect(login.stdout).toContain(`Logged in to ${E2E_BASE_URL} as`);
  expect(login.stdout).toContain(`Default project: ${teamSlug}/shapes`);
  const configFile = path.join(home, "config/wyolo/config.json");
  expect(statSync(configFile).mode & 0o777).toBe(0o600);
  expect(JSON.parse(readFileSync(configFile, "utf8"))).toEqual({ url: E2E_BASE_URL, token, project: `${teamSlug}/shapes` });
  const who = await wyolo(["--json", "whoami"]);
  expect(JSON.parse(who.stdout).user.email).toBe(ADMIN.email);

  // The old habit, with the old README's config as it is: submits, follows, exits 0.
  writeFileSync(path.join(home, "config.yaml"), OLD_CONFIG);
  const trained = await wyolo(["train", "--config_path=config.yaml", "--trial_number=1", "--fitness=fitness"]);
  expect(trained.stderr).toMatch(/^note: --trial_number=1 is not needed/m);
  expect(trained.stderr).toMatch(/^warning: `mlflow` was ignored/m);
  expect(trained.code, trained.stderr).toBe(0);
  // Live over socket.io with the token, not the polling fallback.
  expect(trained.stderr).not.toMatch(/live updates unavailable/);
  const lines = trained.stdout.trim().split("\n");
  expect(lines[0]).toMatch(
    new RegExp(`^Job (\\w+) \\(training_session_001\\) submitted: ${E2E_BASE_URL}/t/${teamSlug}/p/shapes/jobs/\\w+$`),
  );
  const jobId = /^Job (\w+)/.exec(lines[0]!)![1]!;
  // The epoch table: a header, then every epoch once and in order, then the outcome.
  expect(lines[1]!.trim().split(/\s+/)).toEqual(expect.arrayContaining(["epoch", "box_loss", "mAP50-95(B)", "time"]));
  const epochs = lines.filter((l) => /^\s*\d+\/100\s/.test(l)).map((l) => Number(l.trim().split("/")[0]));
  expect(epochs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  expect(lines.at(-1)).toMatch(/^training_session_001: SUCCEEDED · 100\/100 epochs in .* · best mAP50-95\(B\) [\d.]+ \(epoch \d+\)$/);

  // download best: the file's bytes match the sha256 the API recorded.
  const { artifacts } = await (
    await request.get(`/api/v1/jobs/${jobId}/artifacts`, { headers: { authorization: `Bearer ${token}` } })
  ).json();
  const best = artifacts.find((a: { name: string }) => a.name === "weights/best.pt");
  mkdirSync(path.join(home, "out"));
  const dl = await wyolo(["--json", "download", jobId, "best", "-o", "out"]);
  expect(dl.code, dl.stderr).toBe(0);
  const got = JSON.parse(dl.stdout);
  expect(got).toEqual({
    path: path.join(home, "out/best.pt"),
    name: "weights/best.pt",
    size: best.size,
    sha256: best.sha256,
    verified: true,
  });
  expect(sha256(got.path)).toBe(best.sha256);

  // A stored object that no longer matches its checksum: refused, nothing left behind.
  const last = artifacts.find((a: { name: string }) => a.name === "weights/last.pt");
  const { rows } = await db.query(`SELECT "storageKey" FROM "JobArtifact" WHERE id = $1`, [last.id]);
  const s3 = new S3Client({
    endpoint: S3_ENDPOINT,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
  await s3.send(new PutObjectCommand({ Bucket: "wyolo-artifacts", Key: rows[0].storageKey, Body: "tampered" }));
  const bad = await wyolo(["download", jobId, "last", "-o", "out"]);
  expect(bad.code).toBe(3);
  expect(bad.stderr).toBe(
    `error: Checksum mismatch for weights/last.pt: recorded sha256 ${last.sha256}, downloaded ${createHash("sha256").update("tampered").digest("hex")} (8 bytes); nothing was kept\n`,
  );
  expect(readdirSync(path.join(home, "out"))).toEqual(["best.pt"]);

  // jobs ls --json parses and lists the job; logs print its lines.
  const ls = await wyolo(["jobs", "ls", "--json"]);
  expect(JSON.parse(ls.stdout).jobs.map((j: { id: string }) => j.id)).toContain(jobId);
  const table = await wyolo(["jobs", "ls"]);
  expect(table.stdout).toMatch(new RegExp(`^${jobId}\\s+training_session_001\\s+SUCCEEDED\\s+100/100`, "m"));
  const logs = await wyolo(["logs", jobId]);
  expect(logs.code).toBe(0);
  expect(logs.stdout).toContain("epoch 1/100 done");

  // export --download: the fixture exporter's ONNX of this best.pt, checksum checked.
  const exp = await wyolo(["export", jobId, "--format", "onnx", "--download", "-o", "out", "--json"]);
  expect(exp.code, exp.stderr).toBe(0);
  const exported = JSON.parse(exp.stdout);
  expect(exported.export.status).toBe("SUCCEEDED");
  expect(readFileSync(exported.download.path, "utf8")).toContain(`FAKE-EXPORT onnx of ${best.sha256}`);
});

test("--follow --json: NDJSON that parses, exit 1 on FAILED; cancel → exit 2; refusals are one line", async ({ request }) => {
  test.setTimeout(120_000);
  const env = { WYOLO_URL: E2E_BASE_URL, WYOLO_TOKEN: token, WYOLO_PROJECT: `${teamSlug}/shapes` };
  writeFileSync(
    path.join(home, "fails.yaml"),
    "model: yolo11n.pt\ntrain:\n  data: shapes/data.yaml\n  epochs: 5\nmetadata:\n  fake:\n    failAtEpoch: 3\n    failClass: OUT_OF_MEMORY\n",
  );
  const failed = await wyolo(["submit", "fails.yaml", "--follow", "--json", "--priority", "high"], { env });
  expect(failed.code, failed.stderr).toBe(1);
  const events = failed.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(events[0]).toMatchObject({ type: "submitted", kind: "job", job: { status: "QUEUED", priority: "high" } });
  expect(events.filter((e) => e.type === "epoch").map((e) => e.epoch.epoch)).toEqual([1, 2]);
  expect(events.at(-1)).toMatchObject({ type: "end", job: { status: "FAILED", failureClass: "OUT_OF_MEMORY" } });

  // A long job: cancel it from another shell; its follower ends with 2.
  writeFileSync(
    path.join(home, "long.yaml"),
    "model: yolo11n.pt\ntrain:\n  data: shapes/data.yaml\n  epochs: 100\nmetadata:\n  fake:\n    delayMs: 500\n",
  );
  const submitted = JSON.parse((await wyolo(["submit", "long.yaml", "--json", "--name", "long one"], { env })).stdout);
  const jobId = submitted.job.id;
  const follower = wyolo(["logs", jobId, "-f"], { env });
  await expect
    .poll(async () => JSON.parse((await wyolo(["jobs", "show", jobId, "--json"], { env })).stdout).job.currentEpoch ?? 0)
    .toBeGreaterThan(0);
  const cancelled = await wyolo(["cancel", jobId], { env });
  expect(cancelled).toMatchObject({ code: 0, stdout: expect.stringMatching(/^long one: cancel requested|^long one: cancelled/) });
  const followed = await follower;
  expect(followed.code, followed.stderr).toBe(2);
  expect(followed.stdout).toContain("epoch 1/100 done");
  expect(followed.stdout.trim().split("\n").at(-1)).toMatch(/^long one: CANCELLED/);

  // The server's refusal, one line: a bad config (422 with its field), an unknown job (404), a bad token (401).
  writeFileSync(path.join(home, "bad.yaml"), "model: yolo11n.pt\ntrain:\n  data: shapes/data.yaml\n  epochs: 0\n");
  const bad = await wyolo(["submit", "bad.yaml"], { env });
  expect(bad.code).toBe(3);
  expect(bad.stderr).toMatch(/^error: The training config is invalid: config\.train\.epochs: .+\n$/);
  const missing = await wyolo(["jobs", "show", "nope123", "--json"], { env });
  expect(missing.code).toBe(3);
  expect(JSON.parse(missing.stdout)).toMatchObject({ error: { exitCode: 3 } });
  const unknown = await wyolo(["jobs", "ls"], { env: { ...env, WYOLO_TOKEN: `wyolo_${randomBytes(32).toString("base64url")}` } });
  expect(unknown).toMatchObject({ code: 4, stderr: "error: This API token is not valid (run wyolo login with a valid token)\n" });
  // A token revoked in the dashboard stops working for the CLI at once.
  await signInThroughApi(request, ADMIN.email, ADMIN.password);
  const second = await createToken(request, ["read"]);
  expect((await wyolo(["whoami"], { env: { ...env, WYOLO_TOKEN: second.token } })).code).toBe(0);
  expect((await request.delete(`/api/v1/account/tokens/${second.id}`, { headers: FROM_DASHBOARD })).ok()).toBe(true);
  const revoked = await wyolo(["whoami"], { env: { ...env, WYOLO_TOKEN: second.token } });
  expect(revoked).toMatchObject({ code: 4, stderr: "error: This token has been revoked (run wyolo login with a valid token)\n" });
});

test("npm pack → npm i -g of the tarball: the installed wyolo runs without the repository", async () => {
  test.setTimeout(240_000);
  const exec = promisify(execFile);
  const dir = mkdtempSync(path.join(os.tmpdir(), "wyolo-pack-"));
  await exec("npm", ["pack", "-w", "@wyolo/cli", "--pack-destination", dir], { cwd: ROOT });
  const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"))!;
  const prefix = path.join(dir, "global");
  await exec("npm", ["i", "-g", "--prefix", prefix, "--no-audit", "--no-fund", "--prefer-offline", path.join(dir, tgz)], { cwd: dir });
  const bin = path.join(prefix, "bin/wyolo");
  expect(existsSync(path.join(prefix, "lib/node_modules/@wyolo/cli/src"))).toBe(false);
  const { stdout } = await exec(bin, ["--json", "whoami"], {
    cwd: dir,
    env: bareEnv({ HOME: dir, WYOLO_URL: E2E_BASE_URL, WYOLO_TOKEN: token }),
  });
  expect(JSON.parse(stdout).user.email).toBe(ADMIN.email);
});
