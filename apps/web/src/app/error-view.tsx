"use client";

import { useCallback, useEffect } from "react";
import { outageMessage, RETRY_SECONDS } from "@/lib/outage-message";

export type ErrorPageProps = {
  error: Error & { digest?: string };
  reset: () => void;
  /** Next.js 16's own "fetch the page again and reset" (router refresh + reset in a transition). */
  retry?: () => void;
};

/**
 * What error.tsx and global-error.tsx show. An outage (Postgres or Redis down) names the service
 * and fetches the page again every few seconds until it is back; any other error says only that
 * something went wrong (its details are in the server log, under the digest).
 */
export function ErrorView({ error, retry }: ErrorPageProps) {
  const outage = outageMessage(error.digest);
  // Without Next.js's retry, a reload asks the server again (a plain reset would re-render what failed).
  const again = useCallback(() => (retry ? retry() : window.location.reload()), [retry]);
  useEffect(() => {
    if (!outage) return;
    const timer = setInterval(again, RETRY_SECONDS * 1000);
    return () => clearInterval(timer);
  }, [outage, again]);
  return (
    <div role="alert" className="flex min-h-[60vh] flex-col items-center justify-center gap-3 px-4 text-center">
      <p className="text-5xl font-bold text-zinc-300 dark:text-zinc-700">{outage ? 503 : 500}</p>
      <h1 className="text-xl font-semibold">{outage ?? "Something went wrong on our side"}</h1>
      <p className="text-sm text-zinc-500">
        {outage
          ? `This page loads again by itself when it is back (checking every ${RETRY_SECONDS} s).`
          : "Try again; if it keeps failing, tell your administrator."}
      </p>
      <button type="button" onClick={again} className="text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400">
        Try again now
      </button>
    </div>
  );
}
