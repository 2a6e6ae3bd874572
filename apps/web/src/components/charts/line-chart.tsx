"use client";
/**
 * The shared line chart (uPlot): many series over one x axis (epochs, or time), with
 * - zoom: drag across the plot; pan: Shift+drag while zoomed; reset: the Reset button or a double-click;
 * - a Log toggle (log y axis; zeros and negatives become gaps), an EMA smoothing slider (0–0.99, TensorBoard's
 *   debiased EMA), series toggles (click a legend entry), and an enlarged view (Enlarge → a large dialog);
 * - ticks from chart-math.ts (distinct labels, enough decimals, a sane range for flat or all-zero data).
 *
 * Props:
 * - `title`: the card's heading and the chart's accessible name.
 * - `series`: `ChartSeries[]` — `id` (stable: toggles survive updates), `label` (legend), `points` ([x, y|null] pairs;
 *   each series may have its own x values: they are aligned and gaps spanned), optional `color`, `dash` (e.g. [6, 4]),
 *   `width` (px, default 2).
 * - `xKind`: "epoch" (default; integer ticks) or "time" (x in Unix seconds; clock ticks).
 * - `height`: px of the plot in the card (default 200); the enlarged view uses most of the window.
 * - `yFormat`: legend values (default formatValue: 4 significant digits); `yTickFormat`: axis labels (default formatTicks).
 * - `yRange`: a fixed [min, max] (e.g. [0, 100] for a percentage) instead of one fitted to the data; `yFromZero`: the
 *   fitted range always starts at 0 (memory, counts).
 * - `log`: start with the log axis on; `allowLog` (default true) and `allowSmoothing` (default true) show those controls.
 * - `emptyText`: shown while no series has a point; `actions`: extra controls in the header; `testId`: data-testid of the card.
 */
import { clsx } from "clsx";
import { useTheme } from "next-themes";
import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type ReactNode, type RefObject } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { Card } from "@/components/ui";
import { LargeDialog } from "./large-dialog";
import {
  alignSeries,
  ema,
  formatTicks,
  formatTimeTicks,
  formatValue,
  positiveOnly,
  yRange as fitRange,
  type ChartSeries,
} from "./chart-math";

export type { ChartPoint, ChartSeries } from "./chart-math";

export type LineChartProps = {
  title: string;
  series: readonly ChartSeries[];
  xKind?: "epoch" | "time";
  height?: number;
  yFormat?: (v: number) => string;
  yTickFormat?: (values: number[]) => string[];
  yRange?: [number, number];
  yFromZero?: boolean;
  log?: boolean;
  allowLog?: boolean;
  allowSmoothing?: boolean;
  emptyText?: string;
  actions?: ReactNode;
  testId?: string;
  className?: string;
};

/** Distinguishable on white and on zinc-900. */
export const CHART_COLORS = ["#6366f1", "#10b981", "#f59e0b", "#ef4444", "#06b6d4", "#a855f7", "#84cc16", "#ec4899", "#64748b", "#14b8a6"];

export function LineChart(props: LineChartProps) {
  const { title, series, allowLog = true, allowSmoothing = true, emptyText = "No epochs yet", actions, testId, className } = props;
  const [log, setLog] = useState(props.log ?? false);
  const [smoothing, setSmoothing] = useState(0);
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const [zoomed, setZoomed] = useState(false);
  const [enlarged, setEnlarged] = useState(false);
  const resetRef = useRef<(() => void) | null>(null);
  const sliderId = useId();
  const empty = series.every((s) => s.points.every(([, y]) => y === null));
  const state: CanvasState = { log, smoothing, hidden, setHidden };

  const toolbar = (
    <div className="flex flex-wrap items-center gap-x-3 gap-y-1 text-xs text-zinc-600 dark:text-zinc-400">
      {allowLog && (
        <label className="inline-flex items-center gap-1">
          <input type="checkbox" checked={log} onChange={(e) => setLog(e.target.checked)} />
          Log
        </label>
      )}
      {allowSmoothing && (
        <span className="inline-flex items-center gap-1">
          <label htmlFor={sliderId}>Smoothing</label>
          <input
            id={sliderId}
            type="range"
            min={0}
            max={0.99}
            step={0.01}
            value={smoothing}
            onChange={(e) => setSmoothing(Number(e.target.value))}
            className="w-20 accent-indigo-600"
          />
          <output htmlFor={sliderId} className="w-8 tabular-nums">
            {smoothing.toFixed(2)}
          </output>
        </span>
      )}
      {zoomed && (
        <button
          type="button"
          className="rounded px-1 font-medium text-indigo-700 hover:underline dark:text-indigo-300"
          onClick={() => resetRef.current?.()}
        >
          Reset zoom
        </button>
      )}
    </div>
  );

  return (
    <Card className={clsx("p-4", className)}>
      <div data-testid={testId} data-log={log} data-smoothing={smoothing} data-zoomed={zoomed}>
        <div className="mb-1 flex flex-wrap items-center justify-between gap-2">
          <h2 className="text-sm font-semibold">{title}</h2>
          <div className="flex items-center gap-2">
            {actions}
            {!empty && (
              <button
                type="button"
                onClick={() => setEnlarged(true)}
                className="rounded px-1 text-xs font-medium text-indigo-700 hover:underline dark:text-indigo-300"
                aria-label={`Enlarge ${title}`}
              >
                Enlarge
              </button>
            )}
          </div>
        </div>
        {empty ? (
          <p className="flex items-center justify-center text-sm text-zinc-500" style={{ height: props.height ?? 200 }}>
            {emptyText}
          </p>
        ) : (
          <>
            {toolbar}
            <ChartCanvas {...props} height={props.height ?? 200} state={state} onZoom={setZoomed} resetRef={resetRef} />
          </>
        )}
      </div>
      {enlarged && (
        <LargeDialog title={title} onClose={() => setEnlarged(false)}>
          {toolbar}
          <ChartCanvas {...props} height={Math.max(240, Math.round(window.innerHeight * 0.62))} state={state} />
          <p className="text-xs text-zinc-500">
            Drag to zoom · Shift+drag to pan · double-click to reset · click a legend entry to hide it
          </p>
        </LargeDialog>
      )}
    </Card>
  );
}

type CanvasState = {
  log: boolean;
  smoothing: number;
  hidden: ReadonlySet<string>;
  setHidden: (next: ReadonlySet<string>) => void;
};

function ChartCanvas({
  title,
  series,
  xKind = "epoch",
  height,
  yFormat = (v) => formatValue(v),
  yTickFormat,
  yRange,
  yFromZero,
  state,
  onZoom,
  resetRef,
}: LineChartProps & {
  height: number;
  state: CanvasState;
  onZoom?: (zoomed: boolean) => void;
  resetRef?: RefObject<(() => void) | null>;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { resolvedTheme } = useTheme();
  const dark = resolvedTheme === "dark";
  const { log, smoothing, hidden, setHidden } = state;
  // Callbacks the uPlot instance calls: kept current without rebuilding it.
  const [cursor, setCursor] = useState<number | null>(null);
  const latest = useRef({ hidden, onZoom, yTickFormat, onCursor: setCursor });
  useLayoutEffect(() => {
    latest.current = { hidden, onZoom, yTickFormat, onCursor: setCursor };
  }, [hidden, onZoom, yTickFormat]);

  const aligned = useMemo(() => alignSeries(series.map((s) => s.points)), [series]);
  const data = useMemo((): uPlot.AlignedData => {
    const ys = aligned.ys.map((row) => {
      const smoothed = ema(row, smoothing);
      return log ? positiveOnly(smoothed) : smoothed;
    });
    return [aligned.xs, ...ys];
  }, [aligned, smoothing, log]);
  // The instance is rebuilt when what it is made of changes; new points only replace its data.
  const shape = JSON.stringify([series.map((s) => [s.id, s.label, s.color, s.dash, s.width]), xKind, log, dark, height, yRange, yFromZero]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const axisStroke = dark ? "#a1a1aa" : "#52525b";
    const gridStroke = dark ? "rgba(255,255,255,0.08)" : "rgba(0,0,0,0.07)";
    const axis = (extra: Partial<uPlot.Axis>): uPlot.Axis => ({
      stroke: axisStroke,
      grid: { stroke: gridStroke, width: 1 },
      ticks: { stroke: gridStroke, width: 1, size: 4 },
      font: "11px system-ui, sans-serif",
      ...extra,
    });
    const extent = () => {
      const xs = plot.current?.data[0] as number[] | undefined;
      return xs?.length ? { min: xs[0]!, max: xs[xs.length - 1]! } : null;
    };
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      scales: {
        x: {
          time: xKind === "time",
          // One epoch alone still gets an axis around it.
          range: (_u, min, max) => (min === max ? [min - 1, max + 1] : [min, max]),
        },
        y: {
          distr: log ? 3 : 1,
          range: (_u, min, max) =>
            yRange && !log ? yRange : fitRange(yFromZero && !log && min !== null ? Math.min(min, 0) : (min ?? null), max ?? null, log),
        },
      },
      axes: [
        axis(
          xKind === "epoch"
            ? {
                incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000],
                values: (_u, splits) => splits.map((v) => String(Math.round(v))),
              }
            : { values: (_u, splits) => formatTimeTicks(splits) },
        ),
        axis({
          size: 56,
          values: (_u, splits) => (latest.current.yTickFormat ?? ((v: number[]) => formatTicks(v, log)))(splits),
        }),
      ],
      series: [
        {},
        ...series.map(
          (s, i): uPlot.Series => ({
            label: s.label,
            stroke: s.color ?? CHART_COLORS[i % CHART_COLORS.length],
            width: s.width ?? 2,
            dash: s.dash,
            spanGaps: true,
            points: { show: aligned.xs.length < 3 },
            show: !latest.current.hidden.has(s.id),
          }),
        ),
      ],
      legend: { show: false },
      cursor: {
        drag: { x: true, y: false, setScale: true },
        // Shift+drag pans a zoomed axis; a plain drag selects a range to zoom into.
        bind: {
          mousedown: (u, _targ, handler) => (e: MouseEvent) => {
            if (!e.shiftKey) return handler(e);
            const full = extent();
            const { min, max } = u.scales.x!;
            if (!full || min == null || max == null) return null;
            const startX = e.clientX;
            const perPx = (max - min) / u.over.clientWidth;
            const move = (m: MouseEvent) => {
              const shift = Math.min(Math.max((startX - m.clientX) * perPx, full.min - min), full.max - max);
              u.setScale("x", { min: min + shift, max: max + shift });
            };
            const up = () => {
              document.removeEventListener("mousemove", move);
              document.removeEventListener("mouseup", up);
            };
            document.addEventListener("mousemove", move);
            document.addEventListener("mouseup", up);
            return null;
          },
        },
      },
      hooks: {
        setScale: [
          (u, key) => {
            if (key !== "x") return;
            const full = extent();
            const { min, max } = u.scales.x!;
            latest.current.onZoom?.(!!full && min != null && max != null && (min > full.min + 1e-9 || max < full.max - 1e-9));
          },
        ],
        setCursor: [(u) => latest.current.onCursor(u.cursor.idx ?? null)],
      },
    };
    const u = new uPlot(opts, data, el);
    plot.current = u;
    if (resetRef)
      resetRef.current = () => {
        const full = extent();
        if (full) u.setScale("x", full);
      };
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 200), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
      latest.current.onZoom?.(false);
    };
    // `data` is applied by the effect below; rebuilding on every new point would lose the zoom.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape]);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    const { min, max } = u.scales.x!;
    const xs = u.data[0] as number[];
    const wasZoomed = xs.length > 0 && min != null && max != null && (min > xs[0]! || max < xs[xs.length - 1]!);
    u.setData(data, !wasZoomed);
    if (wasZoomed) u.setScale("x", { min: min!, max: max! });
  }, [data]);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    series.forEach((s, i) => {
      const show = !hidden.has(s.id);
      if ((u.series[i + 1]?.show !== false) !== show) u.setSeries(i + 1, { show });
    });
  }, [hidden, series]);

  const at = (row: readonly (number | string | null | undefined)[] | undefined, i: number | null) => {
    if (!row) return null;
    if (i !== null) return (row[i] as number | null | undefined) ?? null;
    for (let j = row.length - 1; j >= 0; j--) if (row[j] != null) return row[j] as number;
    return null;
  };
  const xAt = cursor !== null ? aligned.xs[cursor] : undefined;
  const latestValues = series
    .map((s, i) => {
      const v = at(data[i + 1] as (number | null)[] | undefined, null);
      return v !== null ? `${s.label} ${yFormat(v)}` : null;
    })
    .filter(Boolean)
    .join(", ");
  const toggle = (id: string) => {
    const next = new Set(hidden);
    if (!next.delete(id)) next.add(id);
    setHidden(next);
  };
  return (
    <div className="min-w-0">
      <div
        ref={box}
        role="img"
        aria-label={`${title}: ${series.map((s) => s.label).join(", ")} over ${aligned.xs.length} ${xKind === "epoch" ? "epochs" : "samples"}${latestValues ? `; latest ${latestValues}` : ""}`}
        className="min-w-0 [&_.u-select]:bg-indigo-500/15"
        data-series={series
          .filter((s) => !hidden.has(s.id))
          .map((s) => s.label)
          .join("|")}
      />
      <div className="mt-1 flex flex-wrap items-center gap-x-2 gap-y-0.5 text-xs" aria-label={`${title} series`} role="group">
        <span className="text-zinc-500 tabular-nums">
          {xAt === undefined ? "latest" : xKind === "epoch" ? `epoch ${xAt}` : new Date(xAt * 1000).toLocaleTimeString()}
        </span>
        {series.map((s, i) => {
          const off = hidden.has(s.id);
          const v = at(data[i + 1] as (number | null)[] | undefined, cursor);
          return (
            <button
              key={s.id}
              type="button"
              aria-pressed={!off}
              title={off ? `Show ${s.label}` : `Hide ${s.label}`}
              onClick={() => toggle(s.id)}
              className={clsx(
                "inline-flex items-center gap-1 rounded px-1 py-0.5 hover:bg-zinc-100 dark:hover:bg-zinc-800",
                off && "opacity-40 line-through",
              )}
            >
              <svg width="18" height="8" aria-hidden className="shrink-0">
                <line
                  x1="0"
                  y1="4"
                  x2="18"
                  y2="4"
                  stroke={s.color ?? CHART_COLORS[i % CHART_COLORS.length]}
                  strokeWidth={Math.min(s.width ?? 2, 3)}
                  strokeDasharray={s.dash?.join(" ")}
                />
              </svg>
              <span className="break-all">{s.label}</span>
              {!off && <span className="text-zinc-500 tabular-nums">{v === null ? "—" : yFormat(v)}</span>}
            </button>
          );
        })}
      </div>
    </div>
  );
}
