import type { JobEpochRow } from "@wyolo/contracts";
import type { ChartPoint, ChartSeries as Series } from "./chart-math";

/** Colours per loss kind (box, cls, dfl, seg, pose…): a train loss and its validation twin share one. */
const LOSS_COLORS = ["#6366f1", "#f59e0b", "#10b981", "#ef4444", "#06b6d4", "#a855f7", "#84cc16"];
/** Validation losses are dashed beside their solid train twins. */
export const VAL_DASH = [6, 4];
/**
 * Ultralytics' three learning-rate groups are often equal: each gets its own colour, width and dash, wide
 * solid under narrow dashed under dotted, so lines lying on one another all stay visible.
 */
const LR_STYLES = [
  { color: "#6366f1", width: 5 },
  { color: "#f59e0b", width: 2.5, dash: [10, 6] },
  { color: "#10b981", width: 2, dash: [2, 4] },
  { color: "#ef4444", width: 1.5, dash: [12, 3, 2, 3] },
];

/**
 * A job's epochs as the job page's three charts: losses (train solid, validation dashed, one colour per
 * loss kind), metrics (`metrics/…`) and learning rates (`lr/…`). Keys are read from all three maps of a
 * row (validation losses may arrive with the metrics).
 */
export function epochSeries(epochs: readonly JobEpochRow[]): { losses: Series[]; metrics: Series[]; lr: Series[] } {
  const byKey = new Map<string, ChartPoint[]>();
  for (const e of epochs)
    for (const [key, value] of Object.entries({ ...e.losses, ...e.metrics, ...e.lr })) {
      if (value === null || value === undefined) continue;
      let points = byKey.get(key);
      if (!points) byKey.set(key, (points = []));
      points.push([e.epoch, value]);
    }
  const keys = [...byKey.keys()].sort();
  const lossKinds = [...new Set(keys.filter((k) => /^(train|val)\//.test(k)).map((k) => k.replace(/^(train|val)\//, "")))].sort();
  const losses = lossKinds.flatMap((kind, i) =>
    (["train", "val"] as const)
      .filter((split) => byKey.has(`${split}/${kind}`))
      .map(
        (split): Series => ({
          id: `${split}/${kind}`,
          label: `${split} ${kind}`,
          points: byKey.get(`${split}/${kind}`)!,
          color: LOSS_COLORS[i % LOSS_COLORS.length],
          dash: split === "val" ? VAL_DASH : undefined,
        }),
      ),
  );
  const metrics = keys
    .filter((k) => k.startsWith("metrics/"))
    .map((k): Series => ({ id: k, label: k.replace(/^metrics\//, ""), points: byKey.get(k)! }));
  const lr = keys
    .filter((k) => k.startsWith("lr/"))
    .map((k, i): Series => ({ id: k, label: k.replace(/^lr\//, "lr "), points: byKey.get(k)!, ...LR_STYLES[i % LR_STYLES.length] }));
  return { losses, metrics, lr };
}
