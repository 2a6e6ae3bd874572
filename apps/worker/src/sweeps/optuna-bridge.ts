import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { optunaStudyName, type SearchSpace, type SweepSettings, type TrialState } from "@wyolo/contracts";

/**
 * The worker's side of apps/worker/sweeper/optuna_bridge.py: one long-lived Python child per
 * worker process, JSON lines both ways (protocol: the sweep design). Optuna runs only there; the
 * child gets the Optuna storage URL and nothing else secret.
 */

/** What every study op carries; the bridge builds the sampler and pruner from it in each process. */
export type StudySpec = {
  name: string;
  direction: SweepSettings["direction"];
  sampler: SweepSettings["sampler"];
  seed: number | null;
  pruner: SweepSettings["pruner"];
  /** Minimum epochs (1-based steps) a trial runs before the pruner may stop it. */
  grace_period: number;
  /** Each trial's epoch budget (Hyperband's max_resource). */
  max_epochs: number;
  space: SearchSpace;
};

export type BridgeHello = { optuna: string; samplers: SweepSettings["sampler"][]; importance: boolean };
export type AskedTrial = { number: number; params: Record<string, unknown> };
export type ReportAnswer = { prune: boolean; finished: boolean };
export type OptunaTrialState = TrialState | "RUNNING" | "WAITING";
export type OptunaTrial = {
  number: number;
  state: OptunaTrialState;
  params: Record<string, unknown>;
  value: number | null;
  /** Reported objective per epoch, keyed by the epoch as a string (JSON). */
  intermediate: Record<string, number>;
};
export type ImportancesAnswer = { importances: Record<string, number> | null; reason?: string };

/** The bridge's own codes, plus TIMEOUT (no answer in time; the child is restarted) and EXITED (the child died or would not start). */
export type OptunaBridgeErrorCode = "STORAGE_UNAVAILABLE" | "INVALID" | "NOT_FOUND" | "INTERNAL" | "TIMEOUT" | "EXITED";

export class OptunaBridgeError extends Error {
  constructor(
    readonly code: OptunaBridgeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "OptunaBridgeError";
  }
}

/** The study's database is away (or did not answer in time): try again later, nothing is lost. */
export function isStorageUnavailable(err: unknown): boolean {
  return err instanceof OptunaBridgeError && (err.code === "STORAGE_UNAVAILABLE" || err.code === "TIMEOUT");
}

export type OptunaBridgeOptions = {
  /** Program and arguments, split on spaces like TRAINER_COMMAND (OPTUNA_COMMAND). */
  command: string;
  /** SQLAlchemy URL of the study storage (optunaStorageUrl(DATABASE_URL)). */
  storageUrl: string;
  cwd?: string;
  /** Per call; on expiry the child is killed and started again at the next call. */
  timeoutMs?: number;
  /** The child's stderr, line by line (Optuna's warnings, tracebacks). */
  onLog?: (line: string) => void;
};

type Pending = { resolve: (result: unknown) => void; reject: (err: Error) => void; timer: NodeJS.Timeout };

const PASSED_ENV = ["PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH"];

export class OptunaBridge {
  private child: ChildProcessWithoutNullStreams | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(private readonly options: OptunaBridgeOptions) {}

  /** The running child's process id, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  hello(): Promise<BridgeHello> {
    return this.call("hello", {});
  }

  ensureStudy(study: StudySpec): Promise<{ created: boolean }> {
    return this.call("ensure_study", { study });
  }

  async ask(study: StudySpec, count: number): Promise<AskedTrial[]> {
    return (await this.call<{ trials: AskedTrial[] }>("ask", { study, count })).trials;
  }

  /** Reports one epoch's objective; `prune` says stop now. A step reported before is not reported again. */
  report(study: StudySpec, number: number, step: number, value: number): Promise<ReportAnswer> {
    return this.call("report", { study, number, step, value });
  }

  /** Ends a trial; a trial that ended before answers the state it has. */
  async tell(study: StudySpec, number: number, state: TrialState, value?: number): Promise<TrialState> {
    return (await this.call<{ state: TrialState }>("tell", { study, number, state, ...(value === undefined ? {} : { value }) })).state;
  }

  async trials(study: StudySpec): Promise<OptunaTrial[]> {
    return (await this.call<{ trials: OptunaTrial[] }>("trials", { study })).trials;
  }

  importances(study: StudySpec): Promise<ImportancesAnswer> {
    return this.call("importances", { study });
  }

  /** Ends the child (stdin EOF, then SIGKILL after `graceMs`); calls still waiting fail with EXITED. */
  async close(graceMs = 5000): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.stdin.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private call<T>(op: string, fields: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(new OptunaBridgeError("EXITED", "the Optuna bridge is closed"));
    const child = this.start();
    const id = ++this.nextId;
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new OptunaBridgeError("TIMEOUT", `the Optuna bridge did not answer ${op} within ${timeoutMs} ms`));
        // Its answers would queue behind the stuck call: start afresh.
        child.kill("SIGKILL");
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject, timer });
      child.stdin.write(JSON.stringify({ id, op, ...fields }) + "\n");
    });
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const [program, ...args] = this.options.command.trim().split(/\s+/);
    const env: Record<string, string> = { WYOLO_OPTUNA_STORAGE: this.options.storageUrl, PYTHONUNBUFFERED: "1" };
    for (const key of PASSED_ENV) if (process.env[key] !== undefined) env[key] = process.env[key]!;
    const child = spawn(program!, args, { cwd: this.options.cwd, env: env as NodeJS.ProcessEnv, stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on("line", (line) => this.onAnswer(line));
    createInterface({ input: child.stderr, crlfDelay: Infinity }).on("line", (line) => this.options.onLog?.(line));
    child.stdin.on("error", () => {}); // a dead child: its exit handler fails the calls
    const ended = (why: string) => {
      if (this.child === child) this.child = null;
      this.failAll(new OptunaBridgeError("EXITED", `the Optuna bridge (${this.options.command}) ${why}`));
    };
    child.on("error", (err) => ended(err.message));
    child.on("close", (code, signal) => ended(`exited with ${signal ?? code}`));
    return child;
  }

  private onAnswer(line: string) {
    let answer: { id?: number; ok?: boolean; result?: unknown; error?: { code?: string; message?: string } };
    try {
      answer = JSON.parse(line);
    } catch {
      this.options.onLog?.(`not an answer: ${line.slice(0, 500)}`);
      return;
    }
    const waiting = typeof answer.id === "number" ? this.pending.get(answer.id) : undefined;
    if (!waiting) return; // the answer to a call that timed out
    this.pending.delete(answer.id!);
    clearTimeout(waiting.timer);
    if (answer.ok) waiting.resolve(answer.result);
    else {
      const code = (["STORAGE_UNAVAILABLE", "INVALID", "NOT_FOUND"] as const).find((c) => c === answer.error?.code) ?? "INTERNAL";
      waiting.reject(new OptunaBridgeError(code, answer.error?.message ?? "the Optuna bridge failed"));
    }
  }

  private failAll(err: OptunaBridgeError) {
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      this.pending.delete(id);
      waiting.reject(err);
    }
  }
}

// libpq's connection parameters that may sit in a URL's query; Prisma's own (schema,
// connection_limit, pool_timeout, pgbouncer, socket_timeout, ...) mean nothing to psycopg2.
const LIBPQ_PARAMS = new Set([
  "host",
  "hostaddr",
  "port",
  "connect_timeout",
  "application_name",
  "sslmode",
  "sslcert",
  "sslkey",
  "sslrootcert",
  "sslcrl",
  "sslpassword",
  "sslnegotiation",
  "gssencmode",
  "channel_binding",
  "target_session_attrs",
  "keepalives",
  "keepalives_idle",
  "keepalives_interval",
  "keepalives_count",
  "tcp_user_timeout",
  "options",
]);

/** DATABASE_URL (Prisma/libpq form) → the SQLAlchemy URL of the Optuna storage, in schema `optuna`. */
export function optunaStorageUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (url.protocol !== "postgresql:" && url.protocol !== "postgres:") {
    throw new Error(`DATABASE_URL must be a postgresql:// URL to hold Optuna studies (got ${url.protocol})`);
  }
  const query: string[] = [];
  let options = "";
  for (const [key, value] of url.searchParams) {
    if (!LIBPQ_PARAMS.has(key)) continue;
    if (key === "options") options = value;
    else query.push(`${key}=${encodeURIComponent(value)}`);
  }
  const searchPath = "-csearch_path=optuna";
  query.push(`options=${encodeURIComponent(options ? `${options} ${searchPath}` : searchPath)}`);
  const auth = url.username ? `${url.username}${url.password ? `:${url.password}` : ""}@` : "";
  return `postgresql+psycopg2://${auth}${url.host}${url.pathname}?${query.join("&")}`;
}

/** The study of a sweep as the bridge wants it. */
export function studySpecFor(sweepId: string, settings: SweepSettings, maxEpochs: number): StudySpec {
  return {
    name: optunaStudyName(sweepId),
    direction: settings.direction,
    sampler: settings.sampler,
    seed: settings.seed ?? null,
    pruner: settings.pruner,
    grace_period: settings.grace_period,
    max_epochs: maxEpochs,
    space: settings.search_space,
  };
}
