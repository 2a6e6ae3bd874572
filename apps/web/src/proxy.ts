import { NextResponse, type NextRequest } from "next/server";
import { newNonce, pageContentSecurityPolicy } from "@/server/security-headers";

// A fresh nonce per page request. Next.js reads it back from the request's CSP header and puts
// it on its own scripts; the root layout reads x-nonce for ours (the theme script).
export function proxy(request: NextRequest) {
  const nonce = newNonce();
  const csp = pageContentSecurityPolicy({
    nonce,
    publicUrl: process.env.NEXTAUTH_URL ?? request.nextUrl.origin,
    dev: process.env.NODE_ENV === "development",
    objectStoreUrl: process.env.S3_PUBLIC_ENDPOINT ?? process.env.S3_ENDPOINT,
  });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("Content-Security-Policy", csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("Content-Security-Policy", csp);
  return response;
}

export const config = {
  // Pages only (next-auth's included): the JSON API, health checks and static files keep the
  // baseline policy server.ts sets, and skip the proxy's cost.
  matcher: ["/((?!api/v1|api/health|_next/static|_next/image|favicon.ico).*)"],
};
