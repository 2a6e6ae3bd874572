"use client";
import { useMemo } from "react";
import {
  Bar,
  BarChart,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Scatter,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { SweepDetail, SweepTrialRow } from "@wyolo/contracts";
import { Card } from "@/components/ui";
import { formatParam, optimizationHistory, trialLabel } from "@/lib/sweeps";

const tick = { fontSize: 11 };
const fmt = (v: unknown) => (typeof v === "number" ? (Math.abs(v) < 0.01 && v !== 0 ? v.toExponential(1) : v.toFixed(3)) : String(v));
const COLORS = ["#6366f1", "#10b981", "#f59e0b", "#ef4444", "#06b6d4", "#a855f7", "#84cc16", "#ec4899"];
const PRUNED = "#a1a1aa";

function ChartCard({ title, label, empty, children }: { title: string; label: string; empty?: string; children: React.ReactNode }) {
  return (
    <Card>
      <h2 className="mb-2 text-sm font-semibold">{title}</h2>
      {empty ? (
        <p className="flex h-56 items-center justify-center text-center text-sm text-zinc-500">{empty}</p>
      ) : (
        <div className="h-56" role="img" aria-label={label}>
          <ResponsiveContainer width="100%" height="100%">
            {children as React.ReactElement}
          </ResponsiveContainer>
        </div>
      )}
    </Card>
  );
}

/** The objective of each finished trial by number, and the best so far as a step line. */
export function OptimizationHistory({ sweep }: { sweep: SweepDetail }) {
  const points = optimizationHistory(sweep.trials, sweep.direction);
  const data = points.map((p) => ({
    number: p.number,
    best: p.best,
    complete: p.pruned ? null : p.value,
    pruned: p.pruned ? p.value : null,
  }));
  return (
    <ChartCard
      title="Optimization history"
      label={`Optimization history: ${sweep.objective} of ${points.length} finished trials, best so far ${fmt(points.at(-1)?.best ?? null)}`}
      empty={points.length ? undefined : "Each finished trial’s objective appears here"}
    >
      <ComposedChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: -8 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.1} />
        <XAxis dataKey="number" type="number" domain={["dataMin", "dataMax"]} allowDecimals={false} tick={tick} />
        <YAxis tick={tick} width={52} tickFormatter={fmt} domain={["auto", "auto"]} />
        <Tooltip formatter={fmt} labelFormatter={(n) => `trial ${n}`} />
        <Legend wrapperStyle={{ fontSize: 11 }} />
        <Line dataKey="best" name="best so far" type="stepAfter" stroke="#ef4444" dot={false} strokeWidth={2} isAnimationActive={false} />
        <Scatter dataKey="complete" name="complete" fill="#6366f1" isAnimationActive={false} />
        <Scatter dataKey="pruned" name="pruned (last value)" fill={PRUNED} isAnimationActive={false} />
      </ComposedChart>
    </ChartCard>
  );
}

/** One line per trial over epochs; pruned trials are grey and dashed, and visibly stop early. */
export function IntermediateValues({ sweep }: { sweep: SweepDetail }) {
  const trials = sweep.trials.filter((t) => t.intermediate.length > 0);
  const data = useMemo(() => {
    const byEpoch = new Map<number, Record<string, number>>();
    for (const t of trials)
      for (const [epoch, value] of t.intermediate) {
        const row = byEpoch.get(epoch) ?? { epoch };
        row[`t${t.number}`] = value;
        byEpoch.set(epoch, row);
      }
    return [...byEpoch.values()].sort((a, b) => a.epoch! - b.epoch!);
  }, [trials]);
  const pruned = trials.filter((t) => trialLabel(t) === "PRUNED").length;
  return (
    <ChartCard
      title="Intermediate values"
      label={`Intermediate values: ${sweep.objective} per epoch of ${trials.length} trials, ${pruned} pruned`}
      empty={trials.length ? undefined : "Each trial’s objective per epoch appears here as it trains"}
    >
      <LineChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: -8 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.1} />
        <XAxis dataKey="epoch" type="number" domain={[1, "dataMax"]} allowDecimals={false} tick={tick} />
        <YAxis tick={tick} width={52} tickFormatter={fmt} domain={["auto", "auto"]} />
        <Tooltip formatter={fmt} labelFormatter={(e) => `epoch ${e}`} />
        {trials.map((t, i) => {
          const isPruned = trialLabel(t) === "PRUNED";
          const isBest = t.number === sweep.bestTrialNumber;
          return (
            <Line
              key={t.number}
              dataKey={`t${t.number}`}
              name={`trial ${t.number}${isPruned ? " (pruned)" : ""}`}
              stroke={isPruned ? PRUNED : COLORS[i % COLORS.length]}
              strokeDasharray={isPruned ? "4 3" : undefined}
              strokeWidth={isBest ? 3 : 1.5}
              dot={isPruned ? { r: 2.5, fill: PRUNED } : false}
              connectNulls
              isAnimationActive={false}
            />
          );
        })}
      </LineChart>
    </ChartCard>
  );
}

type Axis = { name: string; kind: "number" | "category"; min: number; max: number; log: boolean; values: string[] };

/** Numbers and categories of a param (or the objective) on a 0..1 axis; log scales where the space says so. */
function axesFor(sweep: SweepDetail, trials: SweepTrialRow[]): Axis[] {
  const names = Object.keys(sweep.settings.search_space).filter((n) => trials.some((t) => n in t.params));
  const axes = names.map((name): Axis => {
    const p = sweep.settings.search_space[name]!;
    const raw = trials.map((t) => t.params[name]);
    if (p.type === "categorical" || raw.some((v) => typeof v !== "number"))
      return { name, kind: "category", min: 0, max: 1, log: false, values: [...new Set(raw.map(String))].sort() };
    const nums = raw as number[];
    const log = p.log && Math.min(...nums) > 0;
    return { name, kind: "number", min: Math.min(...nums), max: Math.max(...nums), log, values: [] };
  });
  const values = trials.map((t) => t.value!);
  return [...axes, { name: sweep.objective, kind: "number", min: Math.min(...values), max: Math.max(...values), log: false, values: [] }];
}

function position(axis: Axis, v: unknown): number {
  if (axis.kind === "category") return axis.values.length > 1 ? axis.values.indexOf(String(v)) / (axis.values.length - 1) : 0.5;
  const f = (x: number) => (axis.log ? Math.log10(x) : x);
  const span = f(axis.max) - f(axis.min);
  return span > 0 ? (f(v as number) - f(axis.min)) / span : 0.5;
}

/**
 * Parallel coordinates: one axis per searched argument and one for the objective (each scaled
 * to its own range), one line per finished trial coloured by its objective; the best is thick.
 */
export function ParallelCoordinates({ sweep }: { sweep: SweepDetail }) {
  const trials = sweep.trials.filter((t) => t.value != null && Object.keys(t.params).length);
  if (trials.length < 2)
    return (
      <ChartCard title="Parameters vs objective" label="" empty="Lines appear once two trials have a value">
        <></>
      </ChartCard>
    );
  const axes = axesFor(sweep, trials);
  const W = 100 * Math.max(axes.length - 1, 1);
  const H = 100;
  const x = (i: number) => (i / Math.max(axes.length - 1, 1)) * W;
  const obj = axes.at(-1)!;
  // Good values are warm: direction decides which end of the objective's range is good.
  const goodness = (v: number) => {
    const p = position(obj, v);
    return sweep.direction === "maximize" ? p : 1 - p;
  };
  const color = (g: number) => `hsl(${240 - 200 * g} 80% ${45 + 5 * g}%)`;
  const ordered = [...trials].sort((a, b) => goodness(a.value!) - goodness(b.value!));
  return (
    <Card>
      <h2 className="mb-2 text-sm font-semibold">Parameters vs objective</h2>
      <div className="overflow-x-auto px-7">
        <svg
          viewBox={`-8 -14 ${W + 16} ${H + 34}`}
          style={{ minWidth: `${Math.max(axes.length * 72, 280)}px` }}
          className="h-56 w-full text-zinc-500"
          role="img"
          aria-label={`Parallel coordinates: ${axes.length - 1} parameters of ${trials.length} trials against ${obj.name}`}
          preserveAspectRatio="none"
        >
          {axes.map((a, i) => (
            <g key={a.name}>
              <line x1={x(i)} x2={x(i)} y1={0} y2={H} stroke="currentColor" strokeOpacity={0.4} vectorEffect="non-scaling-stroke" />
            </g>
          ))}
          {ordered.map((t) => {
            const pts = axes.map((a, i) => `${x(i)},${H - position(a, i === axes.length - 1 ? t.value : t.params[a.name]) * H}`).join(" ");
            const best = t.number === sweep.bestTrialNumber;
            return (
              <polyline
                key={t.number}
                points={pts}
                fill="none"
                stroke={color(goodness(t.value!))}
                strokeWidth={best ? 3 : 1.25}
                strokeOpacity={best ? 1 : 0.75}
                strokeDasharray={trialLabel(t) === "PRUNED" ? "3 3" : undefined}
                vectorEffect="non-scaling-stroke"
              >
                <title>{`trial ${t.number}: ${fmt(t.value)}`}</title>
              </polyline>
            );
          })}
        </svg>
        <div
          className="relative h-10 text-[10px] leading-tight text-zinc-600 dark:text-zinc-400"
          style={{ minWidth: `${Math.max(axes.length * 72, 280)}px` }}
        >
          {axes.map((a, i) => (
            <div
              key={a.name}
              className="absolute w-16 -translate-x-1/2 text-center"
              style={{ left: `${((x(i) + 8) / (W + 16)) * 100}%` }}
              title={a.kind === "category" ? a.values.join(", ") : `${formatParam(a.min)} – ${formatParam(a.max)}${a.log ? " (log)" : ""}`}
            >
              <span className={i === axes.length - 1 ? "font-semibold" : undefined}>{a.name.replace(/^metrics\//, "")}</span>
              <span className="block text-zinc-400">
                {a.kind === "category" ? `${a.values.length} choices` : `${formatParam(a.min)}–${formatParam(a.max)}`}
              </span>
            </div>
          ))}
        </div>
      </div>
    </Card>
  );
}

/** Optuna's parameter importances (share of the objective's variance), largest first. */
export function Importances({ sweep }: { sweep: SweepDetail }) {
  const data = Object.entries(sweep.importances ?? {})
    .map(([name, share]) => ({ name, share }))
    .sort((a, b) => b.share - a.share);
  return (
    <ChartCard
      title="Parameter importances"
      label={`Parameter importances: ${data
        .slice(0, 3)
        .map((d) => `${d.name} ${(d.share * 100).toFixed(0)} %`)
        .join(", ")}`}
      empty={data.length ? undefined : "Importances appear after 2 completed trials (Optuna’s importance evaluator)"}
    >
      <BarChart data={data} layout="vertical" margin={{ top: 4, right: 12, bottom: 0, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.1} horizontal={false} />
        <XAxis type="number" domain={[0, "dataMax"]} tick={tick} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} />
        <YAxis type="category" dataKey="name" tick={tick} width={88} interval={0} />
        <Tooltip formatter={(v) => (typeof v === "number" ? `${(v * 100).toFixed(1)} %` : String(v))} />
        <Bar dataKey="share" name="importance" fill="#6366f1" isAnimationActive={false} />
      </BarChart>
    </ChartCard>
  );
}
