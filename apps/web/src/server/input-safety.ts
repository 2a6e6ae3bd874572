import "server-only";

/** Deeper than any real config or form; JSON.stringify overflows the stack near 5,000 levels. */
export const MAX_NESTING_DEPTH = 64;
/** A YAML document with aliases can expand; past this many values it is refused, not walked. */
const MAX_VALUES = 100_000;
/** One answer names at most this many fields, however many a body gets wrong. */
const MAX_FIELDS = 20;

// Postgres stores neither NUL nor half of a UTF-16 pair, and they break every log and export.
const NUL = "\u0000";
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const UNSAFE_TEXT_MESSAGE = {
  nul: "Must not contain NUL (\\u0000) characters",
  surrogate: "Must be valid Unicode text (it has a lone surrogate such as \\ud800)",
};

/** Why a text cannot be stored, or null when it can. */
export function unsafeTextReason(text: string): string | null {
  if (text.includes(NUL)) return UNSAFE_TEXT_MESSAGE.nul;
  if (LONE_SURROGATE.test(text)) return UNSAFE_TEXT_MESSAGE.surrogate;
  return null;
}

/** A key as a field name: printable, so that the answer naming it is valid text itself. */
function printable(key: string): string {
  return key.replaceAll(NUL, "\\u0000").replace(new RegExp(LONE_SURROGATE.source, "g"), "\ufffd");
}

/**
 * Whether JSON text nests `[`/`{` deeper than `max`: one pass that skips strings, run before
 * JSON.parse so that nothing downstream ever recurses into a hostile depth.
 */
export function jsonNestingExceeds(text: string, max = MAX_NESTING_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * Field messages for what no handler can store or safely walk: NUL and lone surrogates in any
 * string or key, `__proto__` keys (an assignment with one replaces an object's prototype),
 * nesting past MAX_NESTING_DEPTH (cycles from YAML aliases included). Null when all is well.
 * Iterative, so a hostile depth cannot overflow the stack here either.
 */
export function unsafeInputFields(value: unknown, prefix: readonly string[] = []): Record<string, string[]> | null {
  // A Map, not an object literal: a field may well be named `__proto__`.
  const fields = new Map<string, string[]>();
  const add = (path: readonly string[], message: string) => {
    const key = path.join(".") || "_";
    if (!fields.has(key) && fields.size >= MAX_FIELDS) return;
    const messages = fields.get(key) ?? [];
    if (!messages.includes(message)) messages.push(message);
    fields.set(key, messages);
  };
  const stack: { value: unknown; path: readonly string[] }[] = [{ value, path: prefix }];
  for (let visited = 1; stack.length; visited++) {
    const { value: v, path } = stack.pop()!;
    if (visited > MAX_VALUES) {
      add(prefix, `Has more than ${MAX_VALUES} values`);
      break;
    }
    if (typeof v === "string") {
      const reason = unsafeTextReason(v);
      if (reason) add(path, reason);
      continue;
    }
    if (typeof v !== "object" || v === null) continue;
    if (path.length - prefix.length >= MAX_NESTING_DEPTH) {
      add(path.slice(0, prefix.length + 1), `Nested more than ${MAX_NESTING_DEPTH} levels deep`);
      continue;
    }
    const entries: [string, unknown][] = Array.isArray(v) ? v.map((item, i) => [String(i), item]) : Object.entries(v);
    for (const [key, item] of entries) {
      const at = [...path, printable(key)];
      if (key === "__proto__") add(at, "`__proto__` is not allowed as a key");
      else if (unsafeTextReason(key)) add(at, "Keys must not contain NUL characters or lone surrogates");
      else stack.push({ value: item, path: at });
    }
  }
  return fields.size ? Object.fromEntries(fields) : null;
}
