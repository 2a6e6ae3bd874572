"use client";
import type { ReactElement, ReactNode } from "react";
import { Bar, BarChart, CartesianGrid, Cell, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { DatasetStats } from "@wyolo/contracts";
import { Card } from "@/components/ui";
import { histogramBars, splitOrder } from "./stats-data";

const tick = { fontSize: 11, fill: "currentColor" };
const SPLIT_COLORS: Record<string, string> = { train: "#6366f1", val: "#10b981", test: "#f59e0b" };
const OTHER_COLORS = ["#06b6d4", "#a855f7", "#ef4444", "#84cc16"];
const splitColor = (split: string, i: number) => SPLIT_COLORS[split] ?? OTHER_COLORS[i % OTHER_COLORS.length]!;
// System colours follow the page's color-scheme: a readable tooltip in light and dark.
const tooltipStyle = { backgroundColor: "Canvas", color: "CanvasText", borderColor: "GrayText", fontSize: 12 };

function ChartCard({ title, label, height = 224, children }: { title: string; label: string; height?: number; children: ReactNode }) {
  return (
    <Card>
      <h3 className="mb-2 text-sm font-semibold">{title}</h3>
      <div style={{ height }} role="img" aria-label={label} className="text-zinc-500">
        <ResponsiveContainer width="100%" height="100%">
          {children as ReactElement}
        </ResponsiveContainer>
      </div>
    </Card>
  );
}

function Histogram({ title, unit, hist, digits }: { title: string; unit: string; hist: DatasetStats["imageWidths"]; digits: number }) {
  const bars = histogramBars(hist, digits);
  const total = bars.reduce((n, b) => n + b.count, 0);
  return (
    <ChartCard title={title} label={`${title}: ${total} values in ${bars.length} bins${unit ? ` (${unit})` : ""}`}>
      <BarChart data={bars} margin={{ top: 4, right: 8, bottom: 0, left: -16 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.15} vertical={false} />
        <XAxis dataKey="label" tick={tick} interval="preserveStartEnd" minTickGap={8} />
        <YAxis tick={tick} allowDecimals={false} width={44} />
        <Tooltip
          contentStyle={tooltipStyle}
          cursor={{ fillOpacity: 0.1 }}
          formatter={(v) => [v, "count"]}
          labelFormatter={(l) => `${l}${unit}`}
        />
        <Bar dataKey="count" fill="#6366f1" isAnimationActive={false} />
      </BarChart>
    </ChartCard>
  );
}

/** A version's statistics: images per split, instances per class (by split), box sizes and aspects, image sizes. */
export function StatsCharts({ stats, task }: { stats: DatasetStats; task: string | null }) {
  const splits = splitOrder(Object.keys(stats.imagesPerSplit));
  const perSplit = splits.map((split) => ({ split, images: stats.imagesPerSplit[split] ?? 0 }));
  const classes = stats.instancesPerClass.map((c) => ({ name: c.name, id: c.id, total: c.count, ...c.perSplit }));
  const totalImages = perSplit.reduce((n, s) => n + s.images, 0);
  const instances = classes.reduce((n, c) => n + c.total, 0);
  const what = task === "classify" ? "Images per class" : "Instances per class";
  const formats = Object.entries(stats.formats)
    .map(([f, n]) => `${n.toLocaleString()} ${f}`)
    .join(", ");
  return (
    <div className="space-y-4">
      <dl className="grid grid-cols-2 gap-3 text-sm sm:grid-cols-4">
        {[
          ["Images", totalImages.toLocaleString()],
          [task === "classify" ? "Classes" : "Instances", (task === "classify" ? classes.length : instances).toLocaleString()],
          ["Background images", stats.backgroundImages.toLocaleString()],
          ["Corrupt images", stats.corruptImages.toLocaleString()],
        ].map(([k, v]) => (
          <div key={k} className="rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
            <dt className="text-xs text-zinc-500">{k}</dt>
            <dd className="text-lg font-semibold tabular-nums">{v}</dd>
          </div>
        ))}
      </dl>
      {formats && <p className="text-xs text-zinc-500">Formats: {formats}</p>}
      <div className="grid gap-4 lg:grid-cols-2">
        <ChartCard title="Images per split" label={`Images per split: ${perSplit.map((s) => `${s.split} ${s.images}`).join(", ")}`}>
          <BarChart data={perSplit} margin={{ top: 4, right: 8, bottom: 0, left: -16 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.15} vertical={false} />
            <XAxis dataKey="split" tick={tick} />
            <YAxis tick={tick} allowDecimals={false} width={44} />
            <Tooltip contentStyle={tooltipStyle} cursor={{ fillOpacity: 0.1 }} />
            <Bar dataKey="images" isAnimationActive={false}>
              {perSplit.map((s, i) => (
                <Cell key={s.split} fill={splitColor(s.split, i)} />
              ))}
            </Bar>
          </BarChart>
        </ChartCard>
        <ChartCard
          title={what}
          label={`${what}: ${classes.map((c) => `${c.name} ${c.total}`).join(", ")}`}
          height={Math.max(224, Math.min(640, classes.length * 22 + 60))}
        >
          <BarChart data={classes} layout="vertical" margin={{ top: 4, right: 8, bottom: 0, left: 4 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.15} horizontal={false} />
            <XAxis type="number" tick={tick} allowDecimals={false} />
            <YAxis type="category" dataKey="name" tick={tick} width={90} interval={0} />
            <Tooltip contentStyle={tooltipStyle} cursor={{ fillOpacity: 0.1 }} />
            <Legend wrapperStyle={{ fontSize: 11 }} />
            {splits.map((s, i) => (
              <Bar key={s} dataKey={s} stackId="split" fill={splitColor(s, i)} isAnimationActive={false} />
            ))}
          </BarChart>
        </ChartCard>
        {stats.boxAreas && <Histogram title="Box size (share of the image's area)" unit="" hist={stats.boxAreas} digits={3} />}
        {stats.boxAspects && <Histogram title="Box aspect (width / height)" unit="" hist={stats.boxAspects} digits={2} />}
        <Histogram title="Image widths" unit=" px" hist={stats.imageWidths} digits={0} />
        <Histogram title="Image heights" unit=" px" hist={stats.imageHeights} digits={0} />
      </div>
    </div>
  );
}
