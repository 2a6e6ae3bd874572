import { CliError, EXIT } from "./errors.ts";

type RequestOptions = {
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  body?: string;
  contentType?: string;
};

/** The server's error envelope: `{ error: { code, message, fields? } }`. */
type ErrorBody = { error?: { code?: string; message?: string; fields?: Record<string, string[]> } };

/** A thin client of /api/v1 with the Bearer token; every failure becomes one CliError line with the server's own message. */
export class Api {
  constructor(
    readonly url: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const target = new URL(`${this.url}/api/v1${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== "") target.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: "application/json" };
    let body: string | undefined;
    if (opts.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(opts.json);
    } else if (opts.body !== undefined) {
      headers["content-type"] = opts.contentType ?? "text/plain";
      body = opts.body;
    }
    let res: Response;
    try {
      res = await this.fetchImpl(target, { method, headers, body, redirect: "manual", signal: AbortSignal.timeout(60_000) });
    } catch (err) {
      throw unreachable(this.url, err);
    }
    const text = await res.text();
    if (res.ok) {
      try {
        return (text ? JSON.parse(text) : {}) as T;
      } catch {
        throw new CliError(
          `${method} ${target.pathname}: the server answered ${res.status} with something other than JSON`,
          EXIT.UNAVAILABLE,
        );
      }
    }
    throw apiError(res.status, text, target.pathname);
  }

  get<T>(path: string, query?: RequestOptions["query"]) {
    return this.request<T>("GET", path, { query });
  }

  post<T>(path: string, json?: unknown) {
    return this.request<T>("POST", path, json === undefined ? {} : { json });
  }
}

export function unreachable(url: string, err: unknown): CliError {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const why = e.name === "TimeoutError" ? "no answer within 60 s" : (e.cause?.code ?? e.cause?.message ?? e.message);
  return new CliError(`Cannot reach ${url} (${why})`, EXIT.UNAVAILABLE);
}

export function apiError(status: number, text: string, path: string): CliError {
  let body: ErrorBody = {};
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    // Not the API's envelope (a proxy's page, an unknown route): the status says enough.
  }
  const message = body.error?.message ?? `HTTP ${status} from ${path}`;
  if (status === 401) return new CliError(`${message} (run wyolo login with a valid token)`, EXIT.AUTH);
  if (status >= 500) return new CliError(message, EXIT.UNAVAILABLE);
  return new CliError(message, EXIT.ERROR, body.error?.fields);
}
