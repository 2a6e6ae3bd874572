import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CliError, EXIT } from "./errors.ts";

/** What `wyolo login` keeps: the server, its token, and optionally a default project (`team/project`). */
export type StoredConfig = { url?: string; token?: string; project?: string };
export type Env = Record<string, string | undefined>;

/** `$XDG_CONFIG_HOME/wyolo/config.json`, else `~/.config/wyolo/config.json`. */
export function configPath(env: Env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), ".config");
  return path.join(base, "wyolo", "config.json");
}

export function readConfig(env: Env): StoredConfig {
  const file = configPath(env);
  if (!existsSync(file)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
    if (typeof parsed !== "object" || parsed === null) throw new Error("not an object");
    const { url, token, project } = parsed as Record<string, unknown>;
    return {
      ...(typeof url === "string" ? { url } : {}),
      ...(typeof token === "string" ? { token } : {}),
      ...(typeof project === "string" ? { project } : {}),
    };
  } catch (err) {
    throw new CliError(`Cannot read ${file} (${(err as Error).message}): fix it or run wyolo login again`);
  }
}

/** Written to a temporary file with mode 0600 (in a 0700 folder) and renamed: the token is never readable by others, not even briefly. */
export function writeConfig(env: Env, config: StoredConfig): string {
  const file = configPath(env);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}

export function normalizeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.includes("://") ? raw : `https://${raw}`);
  } catch {
    throw new CliError(`Not a URL: ${raw}`, EXIT.USAGE);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new CliError(`Not an http(s) URL: ${raw}`, EXIT.USAGE);
  return url.origin + url.pathname.replace(/\/+$/, "");
}

/** The server and token a command uses: WYOLO_URL / WYOLO_TOKEN / WYOLO_PROJECT win over the config file. */
export function resolveSettings(env: Env): StoredConfig & { source: string } {
  const stored = readConfig(env);
  const url = env.WYOLO_URL || stored.url;
  const token = env.WYOLO_TOKEN || stored.token;
  const project = env.WYOLO_PROJECT || stored.project;
  return {
    ...(url ? { url: normalizeUrl(url) } : {}),
    ...(token ? { token } : {}),
    ...(project ? { project } : {}),
    source: env.WYOLO_TOKEN ? "WYOLO_TOKEN" : configPath(env),
  };
}

export function requireLogin(settings: StoredConfig): { url: string; token: string } {
  if (!settings.url || !settings.token)
    throw new CliError("Not logged in: run `wyolo login` (or set WYOLO_URL and WYOLO_TOKEN)", EXIT.AUTH);
  return { url: settings.url, token: settings.token };
}
