import { describe, expect, it } from "vitest";
import { newNonce, pageContentSecurityPolicy, staticSecurityHeaders } from "@/server/security-headers";

const directives = (csp: string) => new Map(csp.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1)] as const));

describe("staticSecurityHeaders", () => {
  it("forbids framing, sniffing and cross-origin referrers, and turns browser features off", () => {
    const h = staticSecurityHeaders("http://localhost:3000");
    expect(h["X-Content-Type-Options"]).toBe("nosniff");
    expect(h["X-Frame-Options"]).toBe("DENY");
    expect(h["Referrer-Policy"]).toBe("strict-origin-when-cross-origin");
    for (const feature of ["camera", "microphone", "geolocation", "payment", "usb"])
      expect(h["Permissions-Policy"]).toContain(`${feature}=()`);
    const csp = directives(h["Content-Security-Policy"]!);
    expect(csp.get("default-src")).toEqual(["'none'"]);
    expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
  });

  it("sends HSTS only when the public address is https", () => {
    expect(staticSecurityHeaders("http://wyolo.example.com")).not.toHaveProperty("Strict-Transport-Security");
    expect(staticSecurityHeaders("https://wyolo.example.com")["Strict-Transport-Security"]).toMatch(/^max-age=31536000/);
  });
});

describe("pageContentSecurityPolicy", () => {
  it("allows scripts only with the nonce, and nothing from other origins", () => {
    const csp = directives(pageContentSecurityPolicy({ nonce: "abc123", publicUrl: "http://localhost:3210", dev: false }));
    expect(csp.get("script-src")).toEqual(["'self'", "'nonce-abc123'", "'strict-dynamic'"]);
    expect(csp.get("script-src")).not.toContain("'unsafe-inline'");
    expect(csp.get("default-src")).toEqual(["'self'"]);
    expect(csp.get("connect-src")).toEqual(["'self'", "ws://localhost:3210"]);
    expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
    expect(csp.get("object-src")).toEqual(["'none'"]);
    expect(csp.get("base-uri")).toEqual(["'self'"]);
    expect(csp.get("form-action")).toEqual(["'self'"]);
    expect(csp.has("upgrade-insecure-requests")).toBe(false);
  });

  it("uses wss and upgrades requests behind https; allows eval only in development", () => {
    const prod = directives(pageContentSecurityPolicy({ nonce: "n", publicUrl: "https://wyolo.example.com", dev: false }));
    expect(prod.get("connect-src")).toEqual(["'self'", "wss://wyolo.example.com"]);
    expect(prod.has("upgrade-insecure-requests")).toBe(true);
    const dev = directives(pageContentSecurityPolicy({ nonce: "n", publicUrl: "http://localhost:3000", dev: true }));
    expect(dev.get("script-src")).toContain("'unsafe-eval'");
  });

  it("lets pages reach the object store's origin (uploads, previews) and nothing more of it", () => {
    const base = { nonce: "n", publicUrl: "https://wyolo.example.com", dev: false };
    const csp = directives(pageContentSecurityPolicy({ ...base, objectStoreUrl: "https://s3.example.com:9000/some/path?x=1" }));
    expect(csp.get("connect-src")).toEqual(["'self'", "wss://wyolo.example.com", "https://s3.example.com:9000"]);
    expect(csp.get("img-src")).toEqual(["'self'", "data:", "blob:", "https://s3.example.com:9000"]);
    for (const bad of [undefined, "", "not a url", "javascript:alert(1)", "ftp://files.example.com"]) {
      const plain = directives(pageContentSecurityPolicy({ ...base, objectStoreUrl: bad }));
      expect(plain.get("connect-src")).toEqual(["'self'", "wss://wyolo.example.com"]);
      expect(plain.get("img-src")).toEqual(["'self'", "data:", "blob:"]);
    }
  });
});

describe("newNonce", () => {
  it("gives 128 random bits in base64, different each time", () => {
    const nonces = new Set(Array.from({ length: 100 }, newNonce));
    expect(nonces.size).toBe(100);
    for (const n of nonces) expect(Buffer.from(n, "base64")).toHaveLength(16);
  });
});
