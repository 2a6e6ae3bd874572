"use client";
import { useEffect, useRef, useState } from "react";
import { useTheme } from "next-themes";

type SwaggerUIBundle = (options: Record<string, unknown>) => unknown;
declare global {
  interface Window {
    SwaggerUIBundle?: SwaggerUIBundle;
  }
}

/**
 * Swagger UI over the document at `specUrl`. The bundle is added as a script element by this
 * (nonce-trusted) chunk, which the page's 'strict-dynamic' CSP allows; nothing leaves the origin
 * (no validator badge, no CDN).
 */
export function ApiReference({ bundleUrl, specUrl }: { bundleUrl: string; specUrl: string }) {
  const target = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);
  const { resolvedTheme } = useTheme();

  useEffect(() => {
    let cancelled = false;
    const start = () => {
      if (cancelled || !target.current || !window.SwaggerUIBundle) return;
      window.SwaggerUIBundle({
        url: specUrl,
        domNode: target.current,
        deepLinking: true,
        validatorUrl: null,
        withCredentials: true,
        docExpansion: "list",
        defaultModelsExpandDepth: 0,
        displayRequestDuration: true,
        tryItOutEnabled: false,
      });
    };
    if (window.SwaggerUIBundle) start();
    else {
      const script = document.createElement("script");
      script.src = bundleUrl;
      script.async = true;
      script.onload = start;
      script.onerror = () => setFailed(true);
      document.head.appendChild(script);
    }
    return () => {
      cancelled = true;
    };
  }, [bundleUrl, specUrl]);

  // Swagger UI's own dark theme hangs off a class on <html>.
  useEffect(() => {
    document.documentElement.classList.toggle("dark-mode", resolvedTheme === "dark");
    return () => document.documentElement.classList.remove("dark-mode");
  }, [resolvedTheme]);

  if (failed)
    return (
      <p role="alert" className="text-sm text-red-600 dark:text-red-400">
        The reference viewer could not be loaded. The document itself is at <a href={specUrl}>{specUrl}</a>.
      </p>
    );
  return <div ref={target} className="api-reference -mx-4 sm:mx-0" />;
}
