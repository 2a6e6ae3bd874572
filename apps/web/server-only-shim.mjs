// server.ts runs in plain Node (not bundled by Next), where the `server-only` marker package
// would throw on import. Resolve it to an empty module here; Next's bundles are unaffected.
import { register } from "node:module";

const hooks = `export async function resolve(specifier, context, next) {
  if (specifier === "server-only") return { url: "data:text/javascript,export {};", shortCircuit: true };
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
