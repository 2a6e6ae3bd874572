"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Button, Card } from "@/components/ui";
import { api } from "@/lib/api";
import { LargeDialog } from "@/components/charts/large-dialog";

export type Plot = { id: string; name: string; kind: string; size: number; updatedAt: string; url: string };
type PlotsAnswer = { plots: Plot[]; expiresAt: string | null };

export const plotsKey = (jobId: string) => ["job-plots", jobId];

/** "BoxPR_curve.png" → "Box PR curve", "BoxF1_curve.png" → "Box F1 curve", "val_batch0_pred.jpg" → "Val batch0 pred". */
export function plotTitle(name: string): string {
  const file = name
    .split("/")
    .pop()!
    .replace(/\.(png|jpe?g)$/i, "");
  return file
    .replace(/_/g, " ")
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .replace(/^./, (c) => c.toUpperCase());
}

/**
 * The job's plot images as thumbnails; one opens a lightbox (←/→ between plots, Escape closes). The links are
 * presigned for a few minutes: they are asked for again before they run out, or when an image fails to load.
 */
export function PlotsGallery({ jobId, ended }: { jobId: string; ended: boolean }) {
  const plots = useQuery({
    queryKey: plotsKey(jobId),
    queryFn: () => api<PlotsAnswer>(`/api/v1/jobs/${jobId}/plots`),
    refetchInterval: (q) => {
      const expires = q.state.data?.expiresAt;
      return expires ? Math.max(10_000, Date.parse(expires) - Date.now() - 30_000) : false;
    },
  });
  const [open, setOpen] = useState<number | null>(null);
  const list = plots.data?.plots ?? [];
  const refresh = () => void plots.refetch();

  if (plots.isPending) return null;
  return (
    <Card>
      <div className="mb-3 flex items-baseline justify-between gap-2">
        <h2 className="font-semibold">Plots</h2>
        {list.length > 0 && <span className="text-xs text-zinc-500">{list.length} images</span>}
      </div>
      {plots.isError ? (
        <p className="text-sm text-red-600">Could not load the plots: {plots.error.message}</p>
      ) : list.length === 0 ? (
        <p className="text-sm text-zinc-500">
          {ended ? "This run stored no plots." : "The confusion matrix, curves and sample batches appear here when the run writes them."}
        </p>
      ) : (
        <ul className="grid grid-cols-2 gap-3 sm:grid-cols-3 md:grid-cols-4 xl:grid-cols-6" aria-label="Plots">
          {list.map((p, i) => (
            <li key={p.id} className="min-w-0">
              <button
                type="button"
                onClick={() => setOpen(i)}
                className="group block w-full rounded-md border border-zinc-200 p-1 text-left hover:border-indigo-400 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:border-zinc-700"
                aria-label={`Open ${plotTitle(p.name)}`}
              >
                <img src={p.url} alt="" loading="lazy" onError={refresh} className="h-28 w-full rounded bg-white object-contain" />
                <span className="mt-1 block truncate text-xs text-zinc-600 group-hover:text-indigo-700 dark:text-zinc-400" title={p.name}>
                  {plotTitle(p.name)}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {open !== null && list[open] && (
        <Lightbox plots={list} index={open} onIndex={setOpen} onClose={() => setOpen(null)} onError={refresh} />
      )}
    </Card>
  );
}

function Lightbox({
  plots,
  index,
  onIndex,
  onClose,
  onError,
}: {
  plots: Plot[];
  index: number;
  onIndex: (i: number) => void;
  onClose: () => void;
  onError: () => void;
}) {
  const plot = plots[index]!;
  const step = (by: number) => onIndex((index + by + plots.length) % plots.length);
  return (
    <LargeDialog
      title={plotTitle(plot.name)}
      subtitle={
        <>
          <span className="font-mono">{plot.name}</span> · {index + 1} of {plots.length}
        </>
      }
      actions={
        <a
          href={plot.url}
          target="_blank"
          rel="noreferrer"
          className="rounded-md px-2 py-2 text-sm font-medium text-indigo-700 hover:underline dark:text-indigo-300"
        >
          Open original ↗
        </a>
      }
      onClose={onClose}
      onKeyDown={(e) => {
        const by = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
        if (!by) return;
        e.preventDefault();
        step(by);
      }}
      className="h-[min(56rem,calc(100dvh-1rem))] w-[min(80rem,calc(100vw-1rem))] p-3"
    >
      <div className="relative flex min-h-0 flex-1 items-center justify-center gap-2">
        <Button variant="secondary" aria-label="Previous plot" onClick={() => step(-1)} disabled={plots.length < 2}>
          ←
        </Button>
        <img
          src={plot.url}
          alt={plotTitle(plot.name)}
          onError={onError}
          className="max-h-full min-w-0 flex-1 rounded bg-white object-contain"
        />
        <Button variant="secondary" aria-label="Next plot" onClick={() => step(1)} disabled={plots.length < 2}>
          →
        </Button>
      </div>
      <p className="text-center text-xs text-zinc-500">← / → to move between plots · Esc to close</p>
    </LargeDialog>
  );
}
