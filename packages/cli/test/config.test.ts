import { mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { configPath, normalizeUrl, readConfig, resolveSettings, writeConfig } from "../src/config.ts";
import { CliError, EXIT } from "../src/errors.ts";

const tmp = () => mkdtempSync(path.join(os.tmpdir(), "wyolo-cli-config-"));

describe("config file", () => {
  it("lives in $XDG_CONFIG_HOME/wyolo, else ~/.config/wyolo", () => {
    expect(configPath({ XDG_CONFIG_HOME: "/x/cfg", HOME: "/home/u" })).toBe("/x/cfg/wyolo/config.json");
    expect(configPath({ HOME: "/home/u" })).toBe("/home/u/.config/wyolo/config.json");
  });

  it("is written 0600 in a 0700 folder and read back", () => {
    const env = { XDG_CONFIG_HOME: tmp() };
    const file = writeConfig(env, { url: "http://localhost:3000", token: "wyolo_secret", project: "team/p" });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(readConfig(env)).toEqual({ url: "http://localhost:3000", token: "wyolo_secret", project: "team/p" });
  });

  it("stays 0600 when an existing file was readable by others", () => {
    const env = { XDG_CONFIG_HOME: tmp() };
    mkdirSync(path.join(env.XDG_CONFIG_HOME, "wyolo"));
    writeFileSync(configPath(env), "{}", { mode: 0o644 });
    writeConfig(env, { token: "wyolo_x" });
    expect(statSync(configPath(env)).mode & 0o777).toBe(0o600);
  });

  it("a broken file is one clear error naming it", () => {
    const env = { XDG_CONFIG_HOME: tmp() };
    mkdirSync(path.join(env.XDG_CONFIG_HOME, "wyolo"));
    writeFileSync(configPath(env), "{not json");
    expect(() => readConfig(env)).toThrow(CliError);
    expect(() => readConfig(env)).toThrow(/config\.json.*wyolo login/);
  });

  it("WYOLO_URL / WYOLO_TOKEN / WYOLO_PROJECT win over the file", () => {
    const env: Record<string, string> = { XDG_CONFIG_HOME: tmp() };
    writeConfig(env, { url: "http://file:1", token: "wyolo_file", project: "a/b" });
    expect(resolveSettings(env)).toMatchObject({ url: "http://file:1", token: "wyolo_file", project: "a/b" });
    Object.assign(env, { WYOLO_URL: "https://env.example.com/", WYOLO_TOKEN: "wyolo_env", WYOLO_PROJECT: "c/d" });
    expect(resolveSettings(env)).toMatchObject({
      url: "https://env.example.com",
      token: "wyolo_env",
      project: "c/d",
      source: "WYOLO_TOKEN",
    });
    expect(readFileSync(configPath(env), "utf8")).toContain("wyolo_file");
  });

  it("URLs: a bare host gets https, trailing slashes go, other schemes are refused", () => {
    expect(normalizeUrl("wyolo.example.com")).toBe("https://wyolo.example.com");
    expect(normalizeUrl("http://127.0.0.1:3000/")).toBe("http://127.0.0.1:3000");
    expect(normalizeUrl("https://host/wyolo//")).toBe("https://host/wyolo");
    expect(() => normalizeUrl("ftp://host")).toThrow(expect.objectContaining({ exitCode: EXIT.USAGE }));
  });
});
