"use client";

import { ErrorView, type ErrorPageProps } from "./error-view";
import "./globals.css";

// Replaces the root layout when a page fails before its first byte (Next.js then sends an empty
// error document and renders this in the browser), e.g. when the session lookup finds Postgres down.
export default function GlobalError(props: ErrorPageProps) {
  return (
    <html lang="en">
      <head>
        <title>Wyolo</title>
      </head>
      <body className="min-h-screen bg-zinc-50 font-sans text-zinc-900 antialiased dark:bg-zinc-950 dark:text-zinc-100">
        <ErrorView {...props} />
      </body>
    </html>
  );
}
