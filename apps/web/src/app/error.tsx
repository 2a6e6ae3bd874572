"use client";

import { ErrorView } from "./error-view";

// A page or layout below the root that failed: Postgres or Redis down, or anything unexpected.
export default function PageError(props: { error: Error & { digest?: string }; reset: () => void }) {
  return <ErrorView {...props} />;
}
