"use client";
import { useMemo } from "react";
import type { JobEpochRow } from "@wyolo/contracts";
import { LineChart } from "@/components/charts/line-chart";
import { epochSeries } from "@/components/charts/epoch-series";

/** A job's per-epoch charts: losses (train solid, validation dashed), validation metrics, learning rates. */
export function JobEpochCharts({ epochs }: { epochs: readonly JobEpochRow[] }) {
  const { losses, metrics, lr } = useMemo(() => epochSeries(epochs), [epochs]);
  return (
    <div className="mb-6 grid gap-4 lg:grid-cols-3 [&>*]:min-w-0">
      <LineChart
        title="Losses"
        testId="chart-losses"
        series={losses}
        actions={<span className="text-xs text-zinc-500">solid train · dashed val</span>}
      />
      <LineChart title="Validation metrics" testId="chart-metrics" series={metrics} />
      <LineChart title="Learning rate" testId="chart-lr" series={lr} />
    </div>
  );
}
