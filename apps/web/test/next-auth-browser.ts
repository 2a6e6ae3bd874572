import * as nextAuthRoute from "@/app/api/auth/[...nextauth]/route";
import { SESSION_COOKIE } from "@/server/auth/session";

type ApiResponse = { status: number; body: unknown; setCookies: string[] };

/**
 * A browser's cookie jar in front of the app's own /api/auth/[...nextauth] handler: real CSRF
 * tokens, real sign-in through authorizeCredentials, real session refresh and sign-out. The
 * handler is called with a request/response pair of the Pages-API shape, which NextAuth(options)
 * also serves; the App Router shape needs Next's request context, which only a running Next has.
 */
export class NextAuthBrowser {
  readonly cookies = new Map<string, string>();

  constructor(readonly ip = "127.0.0.9") {}

  private async request(method: "GET" | "POST", path: string[], body?: Record<string, string>): Promise<ApiResponse> {
    const headers: Record<string, string> = { host: "localhost:3000", "x-wyolo-client-ip": this.ip };
    const out: ApiResponse = { status: 200, body: undefined, setCookies: [] };
    const res = {
      status(code: number) {
        out.status = code;
        return res;
      },
      getHeader: (name: string) => (name.toLowerCase() === "set-cookie" ? out.setCookies : undefined),
      setHeader(name: string, value: string | string[]) {
        if (name.toLowerCase() === "set-cookie") out.setCookies = ([] as string[]).concat(value);
        return res;
      },
      send: (b: unknown) => void (out.body = b),
      json: (b: unknown) => void (out.body = b),
      end: () => {},
    };
    const req = { method, headers, body, query: { nextauth: path }, cookies: Object.fromEntries(this.cookies) };
    const handler = (method === "GET" ? nextAuthRoute.GET : nextAuthRoute.POST) as unknown as (req: unknown, res: unknown) => Promise<void>;
    await handler(req, res);
    for (const line of out.setCookies) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq);
      const value = decodeURIComponent(pair!.slice(eq + 1));
      if (!value || /;\s*Max-Age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return out;
  }

  private async csrfToken(): Promise<string> {
    return ((await this.request("GET", ["csrf"])).body as { csrfToken: string }).csrfToken;
  }

  /** True when next-auth issued a session cookie. */
  async signIn(email: string, password: string): Promise<boolean> {
    const csrfToken = await this.csrfToken();
    await this.request("POST", ["callback", "credentials"], { csrfToken, email, password, json: "true" });
    return this.cookies.has(SESSION_COOKIE);
  }

  /** GET /api/auth/session: next-auth re-encodes the token (a new jti) and sets it again. */
  async refreshSession(): Promise<Record<string, unknown>> {
    return (await this.request("GET", ["session"])).body as Record<string, unknown>;
  }

  async signOut(): Promise<void> {
    const csrfToken = await this.csrfToken();
    await this.request("POST", ["signout"], { csrfToken, json: "true" });
  }

  /** The Cookie header of the session alone, as the API and socket.io read it. */
  sessionCookie(): string {
    const token = this.cookies.get(SESSION_COOKIE);
    if (!token) throw new Error("not signed in");
    return `${SESSION_COOKIE}=${token}`;
  }
}
