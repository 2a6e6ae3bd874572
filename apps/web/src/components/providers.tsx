"use client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ThemeProvider } from "next-themes";
import { Toaster } from "sonner";
import { useState, type ReactNode } from "react";
import { z } from "zod";
import { ApiRequestError } from "@/lib/api";

// zod probes for eval (`Function("")`) on its first parse to compile fast parsers; the page CSP
// forbids eval, and the probe alone reports a violation. Forms parse little, so no JIT in the
// browser; the server (no CSP there) keeps it for the API.
if (typeof window !== "undefined") z.config({ jitless: true });

export function Providers({ children, nonce }: { children: ReactNode; nonce?: string }) {
  const [client] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            staleTime: 5_000,
            retry: (count, err) => !(err instanceof ApiRequestError && err.status < 500) && count < 2,
          },
        },
      }),
  );
  return (
    <ThemeProvider attribute="class" defaultTheme="system" enableSystem nonce={nonce}>
      <QueryClientProvider client={client}>
        {children}
        <Toaster richColors closeButton position="top-right" />
      </QueryClientProvider>
    </ThemeProvider>
  );
}
