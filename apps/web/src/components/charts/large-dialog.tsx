"use client";
import { clsx } from "clsx";
import { useEffect, useId, useRef, type KeyboardEventHandler, type ReactNode } from "react";
import { Button } from "@/components/ui";

/**
 * A dialog most of the window wide (an enlarged chart, a plot lightbox), open while mounted: Escape or
 * Close ends it through `onClose`. `subtitle` also describes it; `actions` sit before Close.
 */
export function LargeDialog({
  title,
  subtitle,
  actions,
  onClose,
  onKeyDown,
  className,
  children,
}: {
  title: ReactNode;
  subtitle?: ReactNode;
  actions?: ReactNode;
  onClose: () => void;
  onKeyDown?: KeyboardEventHandler<HTMLDialogElement>;
  className?: string;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog
      ref={ref}
      onClose={onClose}
      onKeyDown={onKeyDown}
      aria-labelledby={titleId}
      aria-describedby={subtitle ? `${titleId}-sub` : undefined}
      className={clsx(
        "m-auto rounded-lg border border-zinc-200 bg-white p-4 text-zinc-900 shadow-xl backdrop:bg-black/60 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100",
        className ?? "w-[min(72rem,calc(100vw-1rem))]",
      )}
    >
      <div className="flex h-full flex-col gap-2">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <div className="min-w-0">
            <h2 id={titleId} className="truncate font-semibold">
              {title}
            </h2>
            {subtitle && (
              <p id={`${titleId}-sub`} className="text-xs text-zinc-500">
                {subtitle}
              </p>
            )}
          </div>
          <div className="flex items-center gap-2">
            {actions}
            <Button variant="secondary" onClick={() => ref.current?.close()}>
              Close
            </Button>
          </div>
        </div>
        {children}
      </div>
    </dialog>
  );
}
