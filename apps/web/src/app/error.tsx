"use client";

import { ErrorView, type ErrorPageProps } from "./error-view";

// A page or layout below the root that failed: Postgres or Redis down, or anything unexpected.
export default function PageError(props: ErrorPageProps) {
  return <ErrorView {...props} />;
}
