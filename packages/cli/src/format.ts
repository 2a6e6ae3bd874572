import type { EpochRow } from "./types.ts";

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n");
}

export function duration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return "-";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export const num = (v: number | null | undefined, digits = 4) => (v == null || !Number.isFinite(v) ? "-" : v.toFixed(digits));

export function since(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "-";
  const s = (now - Date.parse(iso)) / 1000;
  return s < 0 ? "just now" : `${duration(s)} ago`;
}

/** `metrics/mAP50-95(B)` → `mAP50-95(B)`, `train/box_loss` → `box_loss`. */
const short = (key: string) => key.replace(/^(metrics|train)\//, "");

// The headline metrics of each task, as Ultralytics prints them; others stay in --json.
const HEADLINE = /^metrics\/(mAP50(-95)?\((B|M|P)\)|accuracy_top[15])$/;

/** The epoch table's columns, chosen from the first epoch the job sent: its train losses and headline metrics. */
export class EpochTable {
  private losses: string[] = [];
  private metrics: string[] = [];
  private widths: number[] = [];
  private started = false;

  constructor(private readonly totalEpochs: () => number) {}

  /** The header line (once, before the first row) and the row. */
  lines(row: EpochRow): string[] {
    const out: string[] = [];
    if (!this.started) {
      this.started = true;
      this.losses = Object.keys(row.losses)
        .filter((k) => k.startsWith("train/"))
        .sort();
      this.metrics = Object.keys(row.metrics)
        .filter((k) => HEADLINE.test(k))
        .sort();
      const header = ["epoch", ...this.losses.map(short), ...this.metrics.map(short), "time"];
      this.widths = header.map((h, i) => Math.max(h.length, i === 0 ? String(this.totalEpochs()).length * 2 + 1 : 8));
      out.push(this.render(header));
    }
    out.push(
      this.render([
        `${row.epoch}/${this.totalEpochs()}`,
        ...this.losses.map((k) => num(row.losses[k])),
        ...this.metrics.map((k) => num(row.metrics[k])),
        row.epochTime == null ? "-" : `${row.epochTime.toFixed(1)}s`,
      ]),
    );
    return out;
  }

  private render(cells: string[]): string {
    return cells.map((c, i) => (i === cells.length - 1 ? c : c.padStart(this.widths[i] ?? 0))).join("  ");
  }
}

/** `[██████░░░░░░] 5/10 epochs · ETA 1m20s · RUNNING`, sized to fit `columns`. */
export function progressLine(
  p: { status: string; currentEpoch: number | null; totalEpochs: number; progress: number; etaSeconds: number | null },
  columns = 80,
): string {
  const epochs = `${p.currentEpoch ?? 0}/${p.totalEpochs} epochs`;
  // After the last epoch the trainer still validates best.pt and the worker uploads: no "ETA 0s".
  const finishing = p.status === "RUNNING" && p.currentEpoch != null && p.currentEpoch >= p.totalEpochs;
  const eta = finishing ? " · finishing…" : p.status === "RUNNING" && p.etaSeconds != null ? ` · ETA ${duration(p.etaSeconds)}` : "";
  const tail = ` ${epochs}${eta} · ${p.status}`;
  const width = Math.max(10, Math.min(30, columns - tail.length - 3));
  const filled = Math.round(Math.min(1, Math.max(0, p.progress)) * width);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}]${tail}`;
}
