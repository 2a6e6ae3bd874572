import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// The quickstart's .env parser and its supervision of the web app and worker (scripts/lib.sh),
// run in real bash with real child processes.
const root = path.join(import.meta.dirname, "..");
const dir = mkdtempSync(path.join(tmpdir(), "wyolo-quickstart-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Run = { code: number | null; stdout: string; stderr: string };

/** Runs SCRIPT after sourcing scripts/lib.sh, in a clean environment plus ENV. */
function bash(
  script: string,
  env: Record<string, string> = {},
  onStdout?: (text: string, child: ReturnType<typeof spawn>) => void,
): Promise<Run> {
  // --norc: bash reads ~/.bashrc when its stdin is a socket, as Node's pipes are.
  const child = spawn("bash", ["--norc", "--noprofile", "-c", `set -euo pipefail\nsource scripts/lib.sh\n${script}`], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NODE_ENV: "test", ...env },
  });
  child.stdin.end();
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
    onStdout?.(stdout, child);
  });
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Exported values as JSON, read by Node so that nothing goes through bash's printing. */
const printEnv = (names: string[]) =>
  `node -e 'console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(names)}.map((k) => [k, process.env[k] ?? null]))))'`;

describe("load_env_file", () => {
  it("reads values with spaces, quotes, = and comments the way compose does, and runs nothing", async () => {
    const marker = path.join(dir, "pwned");
    const file = path.join(dir, "values.env");
    writeFileSync(
      file,
      [
        "# a comment",
        "   # an indented comment",
        "",
        "TRAINER_COMMAND=python3 apps/worker/trainer/train.py",
        "SPACED = two words   # a comment after the value",
        "HASH=abc#def",
        "URL=postgresql://u:p@h:5432/db?sslmode=require&x=1",
        'DOUBLE="say \\"hi\\" # not a comment\\nline two"  # a comment',
        "SINGLE='$HOME \\n stays'",
        `SUBST=$(touch ${marker})`,
        `BACKTICK=\`touch ${marker}\``,
        `QUOTED_SUBST="$(touch ${marker})"`,
        `SEMI=x; touch ${marker}`,
        "export EXPORTED=yes",
        "EMPTY=",
        "LATER=first",
        "LATER=second",
        "CRLF=windows\r",
        "LAST=no newline at the end",
      ].join("\n"),
    );
    const names = [
      "TRAINER_COMMAND",
      "SPACED",
      "HASH",
      "URL",
      "DOUBLE",
      "SINGLE",
      "SUBST",
      "BACKTICK",
      "QUOTED_SUBST",
      "SEMI",
      "EXPORTED",
      "EMPTY",
      "LATER",
      "CRLF",
      "LAST",
      "FROM_SHELL",
    ];
    const run = await bash(`load_env_file "$F"\n${printEnv(names)}`, { F: file, FROM_SHELL: "kept", LATER: "overridden by the file" });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      TRAINER_COMMAND: "python3 apps/worker/trainer/train.py",
      SPACED: "two words",
      HASH: "abc#def",
      URL: "postgresql://u:p@h:5432/db?sslmode=require&x=1",
      DOUBLE: 'say "hi" # not a comment\nline two',
      SINGLE: "$HOME \\n stays",
      SUBST: `$(touch ${marker})`,
      BACKTICK: `\`touch ${marker}\``,
      QUOTED_SUBST: `$(touch ${marker})`,
      SEMI: `x; touch ${marker}`,
      EXPORTED: "yes",
      EMPTY: "",
      LATER: "second",
      CRLF: "windows",
      LAST: "no newline at the end",
      FROM_SHELL: "kept",
    });
    expect(existsSync(marker)).toBe(false);
  });

  it("refuses a malformed line with its number and the variable, quoting none of its value", async () => {
    const cases: [string, RegExp][] = [
      ["TRAINER_COMMAND python3 train.py", /line 2 is not NAME=value/],
      ["MY.VAR=1", /line 2 is not NAME=value/],
      ['ADMIN_PASSWORD="s3cret-unclosed', /line 2: ADMIN_PASSWORD: the opening " has no closing one/],
      ["ADMIN_PASSWORD='s3cret' trailing", /line 2: ADMIN_PASSWORD: unexpected text after the closing quote/],
      ["IFS=x", /line 2: IFS belongs to bash/],
    ];
    for (const [line, message] of cases) {
      const file = path.join(dir, "bad.env");
      writeFileSync(file, `GOOD=1\n${line}\n`);
      const run = await bash(`load_env_file "$F"\necho loaded`, { F: file });
      expect(run.code, line).toBe(1);
      expect(run.stdout, line).toBe("");
      expect(run.stderr, line).toMatch(message);
      expect(run.stderr, line).not.toMatch(/s3cret|python3/);
    }
  });

  it("loads .env.example as the apps' own tests read it", async () => {
    const run = await bash(
      `load_env_file .env.example\n${printEnv(["OIDC_NAME", "ADMIN_NAME", "S3_FORCE_PATH_STYLE", "TRAINER_COMMAND", "WORKER_DATA_DIR"])}`,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      OIDC_NAME: "Single sign-on",
      ADMIN_NAME: "Platform Admin",
      S3_FORCE_PATH_STYLE: "true",
      TRAINER_COMMAND: "",
      WORKER_DATA_DIR: ".data/worker",
    });
  });
});

describe("supervise", () => {
  // Two stand-ins for the web app and the worker; the harness prints their pids, then waits.
  const start = (web: string, worker: string) => `
start_child "web app" "$D/web.log" bash -c ${JSON.stringify(web)}
start_child "worker" "$D/worker.log" bash -c ${JSON.stringify(worker)}
echo "PIDS \${CHILD_PIDS[*]}"`;
  const pidsOf = (stdout: string) =>
    stdout
      .match(/PIDS (\d+) (\d+)/)!
      .slice(1)
      .map(Number) as [number, number];

  it("stops the web app when the worker is killed, naming the worker, its signal and its last log lines", async () => {
    const logs = mkdtempSync(path.join(dir, "killed-"));
    let killed = false;
    let polling: NodeJS.Timeout | undefined;
    const run = await bash(
      `${start("echo web up; exec sleep 60", "echo worker: loading; echo worker: out of memory >&2; exec sleep 60")}\nsupervise`,
      { D: logs, STOP_GRACE_SECONDS: "5" },
      (stdout) => {
        if (polling || !/PIDS/.test(stdout)) return;
        // Kill once the worker's last words are in its log, as a crash would leave them.
        polling = setInterval(() => {
          if (killed || !readFileSync(path.join(logs, "worker.log"), "utf8").includes("out of memory")) return;
          killed = true;
          process.kill(pidsOf(stdout)[1], "SIGKILL");
        }, 50);
      },
    );
    clearInterval(polling);
    expect(killed).toBe(true);
    const [web, worker] = pidsOf(run.stdout);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("The worker was killed by SIGKILL (status 137); stopping the rest (the web app).");
    expect(run.stderr).toMatch(/last lines of .*worker\.log \(worker\) ──\nworker: loading\nworker: out of memory\n/);
    expect(alive(web)).toBe(false);
    expect(alive(worker)).toBe(false);
  });

  it("says the exit code of a child that exits by itself, and kills one that ignores SIGTERM", async () => {
    const logs = mkdtempSync(path.join(dir, "exited-"));
    const run = await bash(
      `${start('trap "" TERM; echo web up; while :; do sleep 0.1; done', 'until grep -q "web up" "$D/web.log"; do sleep 0.05; done; exit 3')}\nsupervise`,
      { D: logs, STOP_GRACE_SECONDS: "1" },
    );
    const [web] = pidsOf(run.stdout);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("The worker exited with code 3; stopping the rest (the web app).");
    expect(run.stderr).toContain("The web app did not stop within 1 s; killing it.");
    expect(run.stderr).toContain("Stopped: the worker exited with code 3.");
    expect(alive(web)).toBe(false);
  });

  it("stops every child on Ctrl-C, killing one that ignores SIGTERM, and exits 0", async () => {
    const logs = mkdtempSync(path.join(dir, "interrupted-"));
    let sent = false;
    const run = await bash(
      `trap interrupt_children INT TERM\n${start('trap "" TERM; echo web up; while :; do sleep 0.1; done', "echo worker up; exec sleep 60")}\nsupervise`,
      { D: logs, STOP_GRACE_SECONDS: "1" },
      (stdout, child) => {
        // Once both are up (the web app's "up" comes after it ignores SIGTERM).
        if (sent || !/PIDS/.test(stdout) || !/web up/.test(stdout) || !/worker up/.test(stdout)) return;
        sent = true;
        child.kill("SIGINT");
      },
    );
    const [web, worker] = pidsOf(run.stdout);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Stopping (Ctrl-C again kills at once)");
    expect(run.stderr).not.toContain("✗");
    expect(run.stderr).toContain("The web app did not stop within 1 s; killing it.");
    expect(alive(web)).toBe(false);
    expect(alive(worker)).toBe(false);
  });
});
