#!/usr/bin/env node
// In the repository (src/ present, tsx installed) the TypeScript sources run as they are, so
// `npx wyolo` needs no build; an installed package (npm i -g of the packed tarball) runs dist/.
import { existsSync } from "node:fs";

let entry = new URL("../dist/main.js", import.meta.url).href;
const src = new URL("../src/main.ts", import.meta.url);
if (existsSync(src)) {
  try {
    const { register } = await import("tsx/esm/api");
    register();
    entry = src.href;
  } catch {
    // No tsx here: the built dist/ it is.
  }
}
await import(entry);
