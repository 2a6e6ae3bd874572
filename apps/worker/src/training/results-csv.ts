import type { JobEpochRow } from "@wyolo/contracts";

function toNumber(raw: string | undefined): number | null {
  if (raw == null || raw.trim() === "") return null;
  const n = Number(raw.trim());
  return Number.isFinite(n) ? n : null;
}

/**
 * Ultralytics' results.csv as epoch rows, split like the trainer splits them (train/ and val/ are
 * losses, metrics/ are metrics, lr/ are learning rates). Its `epoch` counts from 1 and `time` is
 * cumulative seconds, so an epoch's time is the difference from the row before (null for a row
 * whose previous epoch is absent or when the clock went backwards, e.g. across a resume).
 * Headers may be space-padded (older releases); unparsable rows are skipped.
 */
export function parseResultsCsv(text: string): JobEpochRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length < 2) return [];
  const header = lines[0]!.split(",").map((h) => h.trim());
  const epochCol = header.indexOf("epoch");
  if (epochCol < 0) return [];
  const timeCol = header.indexOf("time");
  const rows: JobEpochRow[] = [];
  let previous: { epoch: number; time: number | null } | null = null;
  for (const line of lines.slice(1)) {
    const cells = line.split(",");
    const epoch = toNumber(cells[epochCol]);
    if (epoch == null || !Number.isInteger(epoch) || epoch < 1) continue;
    const row: JobEpochRow = { epoch, losses: {}, metrics: {}, lr: {}, epochTime: null };
    header.forEach((name, i) => {
      if (name.startsWith("train/") || name.startsWith("val/")) row.losses[name] = toNumber(cells[i]);
      else if (name.startsWith("metrics/")) row.metrics[name] = toNumber(cells[i]);
      else if (name.startsWith("lr/")) row.lr[name] = toNumber(cells[i]);
    });
    const time = timeCol >= 0 ? toNumber(cells[timeCol]) : null;
    if (time != null) {
      if (epoch === 1) row.epochTime = time;
      else if (previous && previous.epoch === epoch - 1 && previous.time != null && time >= previous.time)
        row.epochTime = time - previous.time;
    }
    previous = { epoch, time };
    rows.push(row);
  }
  return rows;
}
