import { clsx } from "clsx";
import type { DatasetVersionStatus } from "@wyolo/contracts";

const styles: Record<DatasetVersionStatus, string> = {
  UPLOADING: "bg-sky-100 text-sky-800 dark:bg-sky-900/40 dark:text-sky-300",
  VALIDATING: "bg-indigo-100 text-indigo-800 dark:bg-indigo-900/40 dark:text-indigo-300",
  READY: "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/40 dark:text-emerald-300",
  INVALID: "bg-red-100 text-red-800 dark:bg-red-900/40 dark:text-red-300",
};

export function VersionStatusBadge({ status, archived }: { status: DatasetVersionStatus; archived?: boolean }) {
  return (
    <span className="inline-flex items-center gap-1">
      <span
        data-testid="version-status"
        className={clsx("inline-flex items-center gap-1 rounded px-2 py-0.5 text-xs font-semibold", styles[status])}
      >
        {(status === "UPLOADING" || status === "VALIDATING") && (
          <span className="size-1.5 animate-pulse rounded-full bg-current" aria-hidden />
        )}
        {status}
      </span>
      {archived && (
        <span className="rounded bg-zinc-100 px-2 py-0.5 text-xs text-zinc-600 dark:bg-zinc-800 dark:text-zinc-400">archived</span>
      )}
    </span>
  );
}
