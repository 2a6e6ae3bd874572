import { isMap, isScalar, isSeq, parseDocument, type Node } from "yaml";

/** A config issue placed in the YAML text: offsets of what to underline (one line at most) and its 1-based line. */
export type PlacedIssue = { from: number; to: number; line: number; path: string; message: string };

/**
 * Places the schema's issues (dotted paths such as `train.data`) on the YAML they came from: the
 * value of the key when it is there, its nearest existing parent key when it is missing, the
 * first line when nothing matches. A text that is not valid YAML gets the parser's own errors.
 */
export function placeIssues(text: string, issues: readonly { path: string; message: string }[]): PlacedIssue[] {
  const doc = parseDocument(text);
  const place = (from: number, to: number, path: string, message: string): PlacedIssue => {
    const start = Math.max(0, Math.min(from, text.length));
    const lineEnd = text.indexOf("\n", start);
    const end = Math.min(Math.max(to, start), lineEnd === -1 ? text.length : lineEnd);
    return { from: start, to: end, line: text.slice(0, start).split("\n").length, path, message };
  };
  if (doc.errors.length) return doc.errors.map((e) => place(e.pos[0], e.pos[1], "config", `Not valid YAML: ${e.message.split("\n")[0]}`));
  return issues.map((issue) => {
    const [from, to] = rangeOf(
      doc.contents,
      issue.path.split(".").filter((s) => s && s !== "config"),
    ) ?? [0, 0];
    return place(from, to, issue.path, issue.message);
  });
}

function rangeOf(root: unknown, segments: string[]): [number, number] | null {
  let node = root as Node | null;
  let best: [number, number] | null = node?.range ? [node.range[0], node.range[1]] : null;
  for (const segment of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
      const key = pair?.key as Node | undefined;
      if (!pair || !key?.range) break;
      const value = pair.value as Node | null;
      // A scalar value is underlined from its key; a nested block only on its key's line.
      best = value?.range && isScalar(value) ? [key.range[0], value.range[1]] : [key.range[0], key.range[1]];
      node = value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)] as Node | undefined;
      if (!/^\d+$/.test(segment) || !item?.range) break;
      best = [item.range[0], item.range[1]];
      node = item;
    } else break;
  }
  return best;
}
