import { Api } from "./api.ts";
import { requireLogin, resolveSettings, type StoredConfig } from "./config.ts";
import type { Io } from "./io.ts";

/** What every command gets: its streams, `--json`, the stored settings, an API client once it needs one, and Ctrl-C. */
export type Ctx = {
  io: Io;
  json: boolean;
  settings: StoredConfig;
  signal: AbortSignal;
  api(): { api: Api; token: string };
};

export function makeCtx(io: Io, json: boolean, signal: AbortSignal): Ctx {
  const settings = resolveSettings(io.env);
  return {
    io,
    json,
    settings,
    signal,
    api() {
      const { url, token } = requireLogin(settings);
      return { api: new Api(url, token, io.fetch), token };
    },
  };
}

/** The dashboard page of a job or sweep. */
export const pageUrl = (base: string, team: string, project: string, kind: "jobs" | "sweeps", id: string) =>
  `${base}/t/${team}/p/${project}/${kind}/${id}`;
