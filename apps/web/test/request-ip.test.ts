import { describe, expect, it, vi } from "vitest";

// Read when the env module loads.
vi.hoisted(() => {
  process.env.TRUST_PROXY = "true";
  process.env.NEXTAUTH_SECRET ??= "unit-test-secret-0000000000000000000000";
});

const { clientIp, rateLimitKey } = await import("@/server/request-ip");

describe("clientIp behind one trusted proxy (TRUST_PROXY=true)", () => {
  it("takes the rightmost X-Forwarded-For entry, the one the proxy appended", () => {
    const honest = clientIp({ "x-forwarded-for": "203.0.113.9" });
    expect(honest).toBe("203.0.113.9");
    // The client sends its own X-Forwarded-For; nginx appends the address it saw.
    for (const spoofed of ["1.2.3.4, 203.0.113.9", "9.9.9.9,8.8.8.8, 203.0.113.9"]) {
      expect(clientIp({ "x-forwarded-for": spoofed })).toBe(honest);
      expect(clientIp(new Headers({ "x-forwarded-for": spoofed }))).toBe(honest);
    }
    expect(clientIp({ "x-forwarded-for": ["1.2.3.4", "203.0.113.9"] })).toBe(honest);
  });

  it("falls back to the socket's address without the header", () => {
    expect(clientIp({ "x-wyolo-client-ip": "198.51.100.2" })).toBe("198.51.100.2");
  });
});

describe("rateLimitKey", () => {
  it("counts an IPv6 address as its /64", () => {
    expect(rateLimitKey("2001:db8:1:2::1")).toBe("2001:db8:1:2::");
    expect(rateLimitKey("2001:0db8:0001:0002:ffff:eeee:dddd:cccc")).toBe("2001:db8:1:2::");
    expect(rateLimitKey("2001:db8::5")).toBe("2001:db8:0:0::");
    expect(rateLimitKey("2001:db8:1:3::1")).not.toBe(rateLimitKey("2001:db8:1:2::1"));
    expect(rateLimitKey("fe80::1%eth0")).toBe("fe80:0:0:0::");
  });

  it("leaves IPv4 as it is, and reads an IPv4-mapped address as its IPv4", () => {
    expect(rateLimitKey("203.0.113.9")).toBe("203.0.113.9");
    expect(rateLimitKey("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(rateLimitKey("unknown")).toBe("unknown");
  });
});
