import { Api } from "../api.ts";
import { configPath, normalizeUrl, readConfig, writeConfig } from "../config.ts";
import type { Ctx } from "../context.ts";
import { CliError, EXIT, usage } from "../errors.ts";
import { print, printJson } from "../io.ts";
import { resolveProject } from "../project.ts";
import type { Me } from "../types.ts";

export type LoginOptions = { url?: string; tokenStdin?: boolean; project?: string };

/** Reads the token from stdin: piped (`--token-stdin`), or typed at a prompt without echo. */
async function readToken(ctx: Ctx, piped: boolean): Promise<string> {
  const { stdin, stderr } = ctx.io;
  if (!piped && !stdin.isTTY) throw usage("No token: pass --token-stdin and pipe it, set WYOLO_TOKEN, or run wyolo login in a terminal");
  if (!piped) stderr.write("API token (input hidden): ");
  const raw = stdin as NodeJS.ReadStream;
  if (!piped && typeof raw.setRawMode === "function") raw.setRawMode(true);
  let text = "";
  try {
    for await (const chunk of stdin) {
      text += chunk.toString();
      // A typed token ends at Enter; Ctrl-C (raw mode delivers it as a byte) aborts.
      if (!piped && text.includes("\u0003")) throw new CliError("Cancelled", EXIT.INTERRUPTED);
      if (!piped && /[\r\n]/.test(text)) break;
    }
  } finally {
    if (!piped && typeof raw.setRawMode === "function") raw.setRawMode(false);
    if (!piped) {
      stderr.write("\n");
      stdin.pause();
    }
  }
  return text.split(/[\r\n]/)[0]!.trim();
}

/** `wyolo login`: checks the URL and token with GET /api/v1/me before storing them (0600). */
export async function login(ctx: Ctx, opts: LoginOptions): Promise<number> {
  const stored = readConfig(ctx.io.env);
  const rawUrl = opts.url ?? ctx.io.env.WYOLO_URL ?? stored.url;
  if (!rawUrl) throw usage("Which server? wyolo login --url https://wyolo.example.com");
  const url = normalizeUrl(rawUrl);
  const token = opts.tokenStdin ? await readToken(ctx, true) : (ctx.io.env.WYOLO_TOKEN ?? (await readToken(ctx, false)));
  if (!token) throw usage("The token is empty");
  if (!token.startsWith("wyolo_")) throw usage("That is not a Wyolo API token (they start with wyolo_): create one under Account → Tokens");
  const api = new Api(url, token, ctx.io.fetch);
  const me = await api.get<Me>("/me");
  let project: string | undefined = stored.url === url ? stored.project : undefined;
  if (opts.project) {
    const ref = await resolveProject(api, opts.project);
    project = `${ref.team.slug}/${ref.project.slug}`;
  }
  const file = writeConfig(ctx.io.env, { url, token, ...(project ? { project } : {}) });
  if (ctx.json) printJson(ctx.io.stdout, { url, user: me.user, teams: me.teams, project: project ?? null, config: file });
  else {
    print(ctx.io.stdout, `Logged in to ${url} as ${me.user.name} <${me.user.email}>`);
    print(ctx.io.stdout, `Teams: ${me.teams.map((t) => `${t.slug} (${t.role})`).join(", ") || "none"}`);
    if (project) print(ctx.io.stdout, `Default project: ${project}`);
    print(ctx.io.stdout, `Saved to ${file} (mode 0600)`);
  }
  return EXIT.OK;
}

export function logout(ctx: Ctx): number {
  const stored = readConfig(ctx.io.env);
  const had = !!stored.token;
  delete stored.token;
  const file = writeConfig(ctx.io.env, stored);
  if (ctx.json) printJson(ctx.io.stdout, { loggedOut: had, config: file });
  else print(ctx.io.stdout, had ? `Token removed from ${file} (it stays valid until revoked on the server)` : "Not logged in");
  return EXIT.OK;
}

export async function whoami(ctx: Ctx): Promise<number> {
  const { api } = ctx.api();
  const me = await api.get<Me>("/me");
  if (ctx.json) printJson(ctx.io.stdout, { url: api.url, ...me, project: ctx.settings.project ?? null });
  else {
    print(ctx.io.stdout, `${me.user.name} <${me.user.email}> on ${api.url}`);
    print(ctx.io.stdout, `Teams: ${me.teams.map((t) => `${t.slug} (${t.role})`).join(", ") || "none"}`);
    if (ctx.settings.project) print(ctx.io.stdout, `Default project: ${ctx.settings.project}`);
    print(ctx.io.stdout, `Token from ${ctx.io.env.WYOLO_TOKEN ? "WYOLO_TOKEN" : configPath(ctx.io.env)}`);
  }
  return EXIT.OK;
}
