// The security headers of every answer, in one place. server.ts sets the static ones on every
// response before Next.js or socket.io sees the request (pages, API, static files, 404s,
// socket.io polling); proxy.ts replaces the baseline CSP of pages with one that carries a nonce.
// No imports: this runs in server.ts (plain Node) and in the Next.js proxy bundle.

// Browser features the dashboard never uses, off for it and anything it could embed. Only
// features Chromium knows: an unknown name is logged as an error on every page.
const DISABLED_FEATURES = [
  "accelerometer",
  "autoplay",
  "camera",
  "display-capture",
  "geolocation",
  "gyroscope",
  "magnetometer",
  "microphone",
  "midi",
  "payment",
  "screen-wake-lock",
  "usb",
  "xr-spatial-tracking",
];

// What API JSON, static files and socket.io answers need from a browser: nothing. A JSON or
// SVG answer opened directly as a document then can run and load nothing.
const BASELINE_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const isHttps = (publicUrl: string) => new URL(publicUrl).protocol === "https:";

/** Headers for every response; `publicUrl` is NEXTAUTH_URL, the address browsers use. */
export function staticSecurityHeaders(publicUrl: string): Record<string, string> {
  const headers: Record<string, string> = {
    "Content-Security-Policy": BASELINE_CSP,
    "X-Content-Type-Options": "nosniff",
    // The old header for browsers without frame-ancestors; both say "never in a frame".
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": DISABLED_FEATURES.map((f) => `${f}=()`).join(", "),
    "Cross-Origin-Opener-Policy": "same-origin",
  };
  // Only over TLS: HSTS sent from a plain-http address would be ignored, and a wrong one pins
  // a host to https for a year.
  if (isHttps(publicUrl)) headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains";
  return headers;
}

/** The CSP of an HTML page; Next.js reads the nonce back from it and puts it on its own scripts. */
export function pageContentSecurityPolicy({
  nonce,
  publicUrl,
  dev,
  objectStoreUrl,
}: {
  nonce: string;
  publicUrl: string;
  dev: boolean;
  /** The object store as browsers reach it (S3_PUBLIC_ENDPOINT, else S3_ENDPOINT): dataset uploads PUT there, previews load from it. */
  objectStoreUrl?: string;
}): string {
  const url = new URL(publicUrl);
  const store = objectStoreOrigin(objectStoreUrl);
  const https = url.protocol === "https:";
  // 'self' covers same-origin websockets in CSP3 browsers; the explicit ws(s) origin is for
  // those that predate that rule (socket.io, and Next's dev reload socket).
  const websocketOrigin = `${https ? "wss" : "ws"}://${url.host}`;
  return [
    "default-src 'self'",
    // 'strict-dynamic': scripts that Next's nonced scripts load (route chunks) are trusted;
    // 'self' only matters to CSP2 browsers, which ignore strict-dynamic. React needs eval in dev only.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    // Styles stay 'unsafe-inline': with a style nonce, Chromium blocks the <style> sonner (toasts)
    // inserts at runtime on every page (it takes no nonce), and would block style="" attributes
    // in server-rendered HTML (progress bars). Scripts, what an injection needs, are nonce-locked.
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data: blob:${store}`,
    "font-src 'self'",
    `connect-src 'self' ${websocketOrigin}${store}`,
    // Downloads are navigations to presigned object-store links, which no fetch directive governs.
    "object-src 'none'",
    "frame-src 'none'",
    "worker-src 'self' blob:",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    ...(https ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
}

/** 128 random bits, base64; Web Crypto so that it runs in any Next.js runtime. */
export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/** " <origin>" of the object store for a CSP source list, or "" when none is set or it is not a plain http(s) URL. */
function objectStoreOrigin(value: string | undefined): string {
  if (!value) return "";
  try {
    const u = new URL(value);
    return u.protocol === "http:" || u.protocol === "https:" ? ` ${u.origin}` : "";
  } catch {
    return "";
  }
}
