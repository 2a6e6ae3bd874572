"use client";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import type { DatasetItem, DatasetItemsAnswer } from "@wyolo/contracts";
import { Button, EmptyState, Select } from "@/components/ui";
import { Modal } from "@/components/dialog";
import { api } from "@/lib/api";
import { formatBytes } from "@/lib/format";
import { PreviewCanvas, labelSummary } from "./preview-canvas";
import { classColour, className } from "./preview-geometry";

export type GalleryFilter = { split: string; classId: string; errors: boolean };

function itemsPath(versionId: string, f: GalleryFilter, cursor: string | null) {
  const q = new URLSearchParams({ limit: "24" });
  if (f.split) q.set("split", f.split);
  if (f.classId) q.set("classId", f.classId);
  if (f.errors) q.set("errors", "1");
  if (cursor) q.set("cursor", cursor);
  return `/api/v1/dataset-versions/${versionId}/items?${q}`;
}

/** The images of a version with their labels drawn, filterable by split, class and "has errors"; paged by cursor. */
export function PreviewGallery({
  versionId,
  splits,
  classNames,
  filter,
  onFilter,
}: {
  versionId: string;
  splits: string[];
  classNames: string[];
  filter: GalleryFilter;
  onFilter: (f: GalleryFilter) => void;
}) {
  const ids = { split: useId(), cls: useId(), errors: useId() };
  const [open, setOpen] = useState<DatasetItem | null>(null);
  const items = useInfiniteQuery({
    queryKey: ["dataset-items", versionId, filter],
    queryFn: ({ pageParam }) => api<DatasetItemsAnswer>(itemsPath(versionId, filter, pageParam)),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    // Image links are presigned for a few minutes: refetch before they lapse.
    staleTime: 120_000,
    refetchInterval: 240_000,
  });
  const names = items.data?.pages[0]?.classNames ?? classNames;
  const all = items.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end gap-3">
        <div>
          <label htmlFor={ids.split} className="block text-xs font-medium text-zinc-600 dark:text-zinc-400">
            Split
          </label>
          <Select id={ids.split} value={filter.split} onChange={(e) => onFilter({ ...filter, split: e.target.value })}>
            <option value="">All splits</option>
            {splits.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </Select>
        </div>
        <div>
          <label htmlFor={ids.cls} className="block text-xs font-medium text-zinc-600 dark:text-zinc-400">
            Class
          </label>
          <Select id={ids.cls} value={filter.classId} onChange={(e) => onFilter({ ...filter, classId: e.target.value })}>
            <option value="">All classes</option>
            {names.map((n, i) => (
              <option key={i} value={i}>
                {i}: {n}
              </option>
            ))}
          </Select>
        </div>
        <label htmlFor={ids.errors} className="flex items-center gap-2 pb-2 text-sm">
          <input
            id={ids.errors}
            type="checkbox"
            checked={filter.errors}
            onChange={(e) => onFilter({ ...filter, errors: e.target.checked })}
            className="size-4 accent-indigo-600"
          />
          Has errors
        </label>
      </div>
      {items.isPending ? (
        <p className="text-sm text-zinc-500">Loading images…</p>
      ) : items.isError ? (
        <p className="text-sm text-red-600">Could not load images: {items.error.message}</p>
      ) : all.length === 0 ? (
        <EmptyState title="No images match">Change the split, the class or the errors filter.</EmptyState>
      ) : (
        <>
          <ul className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-4" aria-label="Images">
            {all.map((item) => (
              <li key={item.path} className="overflow-hidden rounded-md border border-zinc-200 dark:border-zinc-800">
                <button
                  type="button"
                  onClick={() => setOpen(item)}
                  className="block w-full text-left focus-visible:outline-2 focus-visible:outline-indigo-500"
                  aria-label={`Open ${item.path}`}
                >
                  <PreviewCanvas
                    url={item.url}
                    labels={item.labels}
                    names={names}
                    width={item.width}
                    height={item.height}
                    path={item.path}
                  />
                  <span className="flex items-center justify-between gap-2 px-2 py-1 text-xs">
                    <span className="min-w-0 truncate font-mono text-zinc-600 dark:text-zinc-400">
                      {item.split ? `${item.split}/` : ""}
                      {item.path.split("/").pop()}
                    </span>
                    {item.errorCount > 0 && (
                      <span className="shrink-0 rounded bg-red-100 px-1.5 font-semibold text-red-800 dark:bg-red-900/40 dark:text-red-300">
                        {item.errorCount} error{item.errorCount === 1 ? "" : "s"}
                      </span>
                    )}
                  </span>
                </button>
              </li>
            ))}
          </ul>
          {items.hasNextPage && (
            <div className="text-center">
              <Button variant="secondary" busy={items.isFetchingNextPage} onClick={() => void items.fetchNextPage()}>
                Load more
              </Button>
            </div>
          )}
        </>
      )}
      <Modal open={!!open} onClose={() => setOpen(null)} title={open?.path.split("/").pop() ?? ""}>
        {open && <ItemDetail item={open} names={names} onClose={() => setOpen(null)} />}
      </Modal>
    </div>
  );
}

function ItemDetail({ item, names, onClose }: { item: DatasetItem; names: string[]; onClose: () => void }) {
  return (
    <div className="mt-3 space-y-3">
      <PreviewCanvas url={item.url} labels={item.labels} names={names} width={item.width} height={item.height} path={item.path} large />
      <p className="font-mono text-xs break-all text-zinc-500">{item.path}</p>
      <p className="text-sm">
        {item.width && item.height ? `${item.width} × ${item.height} px · ` : ""}
        {formatBytes(item.size)} · {item.split ?? "no split"} · {labelSummary(item.labels, names)}
        {item.errorCount > 0 && <span className="text-red-600 dark:text-red-400"> · {item.errorCount} errors (see the report)</span>}
      </p>
      {item.labels.length > 0 && (
        <ul className="flex flex-wrap gap-1.5" aria-label="Classes in this image">
          {[...new Set(item.labels.map((l) => l.c))].map((c) => (
            <li key={c} className="flex items-center gap-1 rounded bg-zinc-100 px-2 py-0.5 text-xs dark:bg-zinc-800">
              <span className="size-2 rounded-full" style={{ background: classColour(c) }} aria-hidden />
              {className(names, c)}
            </li>
          ))}
        </ul>
      )}
      <div className="flex justify-end">
        <Button variant="secondary" onClick={onClose}>
          Close
        </Button>
      </div>
    </div>
  );
}
