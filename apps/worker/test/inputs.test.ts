import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { staysInside } from "../src/training/inputs.ts";

describe("staysInside (the worker's realpath check of a job's paths)", () => {
  const base = mkdtempSync(path.join(os.tmpdir(), "wyolo-inputs-"));
  const root = path.join(base, "datasets");
  const outside = path.join(base, "outside");
  mkdirSync(path.join(root, "shapes"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(root, "shapes", "data.yaml"), "names: {0: a}\n");
  writeFileSync(path.join(outside, "data.yaml"), "names: {0: secret}\n");
  symlinkSync(outside, path.join(root, "leak"));
  symlinkSync(path.join(outside, "later.yaml"), path.join(root, "dangling.yaml"));
  symlinkSync(path.join(root, "shapes"), path.join(root, "alias"));
  // The root itself may be a symlink (a mounted volume): what counts is where it really is.
  symlinkSync(root, path.join(base, "datasets-link"));

  it("accepts files under the root, through symlinks that stay inside it", () => {
    expect(staysInside(root, "shapes/data.yaml")).toBe(true);
    expect(staysInside(root, "alias/data.yaml")).toBe(true);
    expect(staysInside(path.join(base, "datasets-link"), "shapes/data.yaml")).toBe(true);
  });

  it("leaves a missing file to the trainer (it cannot be read) but judges its existing ancestors", () => {
    expect(staysInside(root, "shapes/missing.yaml")).toBe(true);
    expect(staysInside(root, "leak/missing/data.yaml")).toBe(false);
    expect(staysInside(path.join(base, "no-such-root"), "x/data.yaml")).toBe(true);
  });

  it("refuses a symlink out of the root, a dangling one, and a lexical escape", () => {
    expect(staysInside(root, "leak/data.yaml")).toBe(false);
    expect(staysInside(root, "leak")).toBe(false);
    expect(staysInside(root, "dangling.yaml")).toBe(false);
    expect(staysInside(root, "../outside/data.yaml")).toBe(false);
    expect(staysInside(root, "/etc/passwd")).toBe(false);
  });
});
