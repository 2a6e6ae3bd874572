"use client";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Card } from "@/components/ui";

const COLORS = ["#6366f1", "#10b981", "#f59e0b", "#ef4444", "#06b6d4", "#a855f7", "#84cc16"];

export function MetricChart({ title, data, keys }: { title: string; data: Record<string, number | null>[]; keys: string[] }) {
  return (
    <Card>
      <h2 className="mb-2 text-sm font-semibold">{title}</h2>
      {data.length === 0 || keys.length === 0 ? (
        <p className="flex h-48 items-center justify-center text-sm text-zinc-500">No epochs yet</p>
      ) : (
        <div className="h-48" role="img" aria-label={`${title}: ${keys.join(", ")} over ${data.length} epochs`}>
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: -12 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.1} />
              <XAxis dataKey="epoch" tick={{ fontSize: 11 }} />
              <YAxis
                tick={{ fontSize: 11 }}
                width={48}
                tickFormatter={(v: number) => (Math.abs(v) < 0.01 && v !== 0 ? v.toExponential(0) : v.toFixed(2))}
              />
              <Tooltip formatter={(v) => (typeof v === "number" ? v.toFixed(4) : String(v))} />
              <Legend wrapperStyle={{ fontSize: 11 }} formatter={(k: string) => k.replace(/^(train|metrics|lr|val)\//, "")} />
              {keys.map((k, i) => (
                <Line
                  key={k}
                  type="monotone"
                  dataKey={k}
                  stroke={COLORS[i % COLORS.length]}
                  dot={false}
                  isAnimationActive={false}
                  strokeWidth={2}
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </Card>
  );
}
