import type { Api } from "./api.ts";
import { CliError, EXIT } from "./errors.ts";
import { duration, EpochTable, num, progressLine } from "./format.ts";
import { print, printJsonLine, type Io } from "./io.ts";
import { connectLive } from "./live.ts";
import { TERMINAL, type EpochRow, type Job, type JobDetail, type LogLine } from "./types.ts";

export type FollowOptions = {
  api: Api;
  io: Io;
  token: string;
  jobId: string;
  /** NDJSON on stdout: `{"type":"epoch"|"status"|"log"|"end", …}`. */
  json: boolean;
  /** `logs -f`: print the log lines instead of the epoch table. */
  logs: boolean;
  signal?: AbortSignal;
  /** How often the API is asked while live updates flow (a safety net) and when they do not. */
  pollMs?: { live: number; polling: number };
};

/** How long the API may stay unreachable (web restart, Postgres away) before following gives up. */
const OUTAGE_LIMIT_MS = 5 * 60_000;

/**
 * Follows a job to its end: live over socket.io, with the API read at every (re)subscription and
 * now and then, so nothing is missed; epochs print once each, in order. Resolves with the job as
 * it ended (the caller turns its status into the exit code).
 */
export async function followJob(opts: FollowOptions): Promise<JobDetail["job"]> {
  const { api, io, jobId, json } = opts;
  const pollMs = opts.pollMs ?? { live: 10_000, polling: 2_000 };
  const barOn = !json && !!io.stderr.isTTY;
  const columns = (io.stderr as { columns?: number }).columns ?? 80;

  let job: JobDetail["job"] | null = null;
  let lastStatus: string | null = null;
  const printed = new Set<number>();
  let synced = false;
  const early: EpochRow[] = [];
  let lastSeq = 0;
  let live = true;
  let barShown = false;
  let outageSince: number | null = null;
  const table = new EpochTable(() => job?.totalEpochs ?? 0);

  const clearBar = () => {
    if (barShown) io.stderr.write("\r\x1b[K");
    barShown = false;
  };
  const drawBar = () => {
    if (!barOn || !job || TERMINAL.includes(job.status)) return;
    io.stderr.write(`\r\x1b[K${progressLine(job, columns)}`);
    barShown = true;
  };
  const out = (line: string) => {
    clearBar();
    print(io.stdout, line);
    drawBar();
  };

  const showEpochs = (rows: EpochRow[]) => {
    for (const row of [...rows].sort((a, b) => a.epoch - b.epoch)) {
      if (printed.has(row.epoch)) continue;
      printed.add(row.epoch);
      if (opts.logs) continue;
      if (json) printJsonLine(io.stdout, { type: "epoch", jobId, epoch: row });
      else for (const line of table.lines(row)) out(line);
    }
  };
  const showLogs = (lines: LogLine[]) => {
    for (const l of [...lines].sort((a, b) => a.seq - b.seq)) {
      if (l.seq <= lastSeq) continue;
      lastSeq = l.seq;
      if (json) printJsonLine(io.stdout, { type: "log", jobId, ...l });
      else out(l.line);
    }
  };
  const showStatus = () => {
    if (!job || job.status === lastStatus) return;
    lastStatus = job.status;
    if (json) printJsonLine(io.stdout, { type: "status", jobId, status: job.status });
    else if (!barOn && !TERMINAL.includes(job.status)) print(io.stderr, `${job.name}: ${job.status}`);
    drawBar();
  };

  let finish!: () => void;
  let fail!: (err: unknown) => void;
  const ended = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
  let done = false;

  const readLogs = async () => {
    for (;;) {
      const page = await api.get<{ lines: LogLine[]; next: number }>(`/jobs/${jobId}/logs`, { after: lastSeq, limit: 1000 });
      showLogs(page.lines);
      if (page.lines.length < 1000) return;
    }
  };
  const refresh = async () => {
    const [detail, metrics] = await Promise.all([
      api.get<JobDetail>(`/jobs/${jobId}`),
      opts.logs ? null : api.get<{ epochs: EpochRow[] }>(`/jobs/${jobId}/metrics`),
    ]);
    job = { ...detail.job, ...(job && !TERMINAL.includes(detail.job.status) ? pickLive(job, detail.job) : {}) };
    showStatus();
    if (metrics) showEpochs([...metrics.epochs, ...early.splice(0)]);
    if (opts.logs) await readLogs();
    synced = true;
    if (TERMINAL.includes(detail.job.status)) {
      done = true;
      finish();
    }
  };
  const safeRefresh = () =>
    refresh().then(
      () => (outageSince = null),
      (err: unknown) => {
        // The server away for a moment (a restart, a Postgres failover) is waited out once the job
        // was seen; a refusal, or no answer at all to the first read, is final.
        if (err instanceof CliError && err.exitCode === EXIT.UNAVAILABLE && job !== null) {
          if (outageSince === null) {
            outageSince = Date.now();
            if (!json) print(io.stderr, `warning: ${err.message}; retrying`);
          } else if (Date.now() - outageSince > OUTAGE_LIMIT_MS) fail(err);
          return;
        }
        fail(err);
      },
    );

  const channel = connectLive(
    api.url,
    opts.token,
    { jobId },
    {
      onSubscribed: () => void safeRefresh(),
      onUnavailable: (why) => {
        live = false;
        if (!json) print(io.stderr, `warning: live updates unavailable (${why}); polling every ${pollMs.polling / 1000} s`);
      },
      onEvent: (name, payload) => {
        const p = payload as { jobId?: string; id?: string };
        if (done) return;
        if (name === "job:epoch" && p.jobId === jobId) {
          const row = (payload as { epoch: EpochRow }).epoch;
          if (synced) showEpochs([row]);
          else early.push(row);
        } else if (name === "job:log" && p.jobId === jobId && opts.logs && synced) {
          showLogs((payload as { lines: LogLine[] }).lines);
        } else if (name === "job:updated" && p.id === jobId && job) {
          job = { ...job, ...(payload as Partial<Job>) };
          showStatus();
          drawBar();
          // The end: read the job and its last epochs (or lines) once more from the API.
          if (TERMINAL.includes(job.status)) void safeRefresh();
        }
      },
    },
  );
  const onAbort = () =>
    fail(new CliError(`Stopped following; job ${jobId} keeps running (wyolo cancel ${jobId} stops it)`, EXIT.INTERRUPTED));
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  // The API first (the job may have ended already, and a wrong id is a clean 404), then now and then.
  await safeRefresh();
  let timer: NodeJS.Timeout | undefined;
  const poll = () => {
    timer = setTimeout(() => void safeRefresh().then(() => !done && poll()), live ? pollMs.live : pollMs.polling);
  };
  if (!done) poll();
  try {
    await ended;
  } finally {
    done = true;
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
    channel.close();
    clearBar();
  }
  const final = job as JobDetail["job"] | null;
  if (!final) throw new CliError(`Job ${jobId} could not be read`);
  if (json) printJsonLine(io.stdout, { type: "end", job: final });
  else print(io.stdout, summaryLine(final));
  return final;
}

/** Live fields newer than an API read that raced with them: the higher epoch wins. */
function pickLive(cur: Job, fresh: Job): Partial<Job> {
  return (cur.currentEpoch ?? 0) > (fresh.currentEpoch ?? 0)
    ? { currentEpoch: cur.currentEpoch, progress: cur.progress, etaSeconds: cur.etaSeconds }
    : {};
}

export function summaryLine(job: JobDetail["job"]): string {
  const took = job.startedAt && job.finishedAt ? ` in ${duration((Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000)}` : "";
  const epochs = `${job.currentEpoch ?? 0}/${job.totalEpochs} epochs${took}`;
  const best = job.bestMetricName
    ? ` · best ${job.bestMetricName.replace(/^metrics\//, "")} ${num(job.bestMetric)}${job.bestEpoch != null ? ` (epoch ${job.bestEpoch})` : ""}`
    : "";
  const why = job.status === "FAILED" && job.failureReason ? `: ${job.failureReason.split("\n")[0]}` : "";
  return `${job.name}: ${job.status}${why} · ${epochs}${best}`;
}
