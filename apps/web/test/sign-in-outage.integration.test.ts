import { afterAll, describe, expect, it } from "vitest";
import { startPgProxy } from "../../../test/integration/pg-proxy";

// next-auth hands the message of an error thrown while signing in to the browser (in the error
// URL). With Postgres away (a TCP proxy this file cuts) that must be a message naming the
// database, never Prisma's text with the server's address.
const postgres = await startPgProxy(process.env.DATABASE_URL!);
process.env.DATABASE_URL = postgres.url;
const { NextAuthBrowser } = await import("./next-auth-browser");
const { createUser, PASSWORD } = await import("../../../test/integration/helpers");

afterAll(() => postgres.cut());

type Raw = (method: "GET" | "POST", path: string[], body?: Record<string, string>) => Promise<{ status: number; body: unknown }>;

async function signInAnswer(email: string, password: string) {
  const browser = new NextAuthBrowser();
  const request = (browser as unknown as { request: Raw }).request.bind(browser);
  const { csrfToken } = (await request("GET", ["csrf"])).body as { csrfToken: string };
  const res = await request("POST", ["callback", "credentials"], { csrfToken, email, password, json: "true" });
  const url = new URL((res.body as { url: string }).url);
  return { error: url.searchParams.get("error"), signedIn: browser.cookies.has("next-auth.session-token") };
}

describe("signing in while Postgres is away", () => {
  it("says the database is unreachable, without internals, and works again when it is back", async () => {
    const user = await createUser();
    await postgres.cut();
    const down = await signInAnswer(user.email, PASSWORD);
    expect(down.signedIn).toBe(false);
    expect(down.error).toBe("Wyolo can't reach its database (Postgres); try again shortly");
    await postgres.restore();
    expect((await signInAnswer(user.email, PASSWORD)).signedIn).toBe(true);
    expect((await signInAnswer(user.email, "wrong-password-0")).error).toBe("Invalid email or password");
  });
});
