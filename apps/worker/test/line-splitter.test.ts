import { describe, expect, it } from "vitest";
import { LineSplitter } from "../src/training/line-splitter.ts";

const split = (...chunks: string[]) => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  for (const c of chunks) s.push(Buffer.from(c));
  s.end();
  return lines;
};

describe("LineSplitter", () => {
  it("joins lines across chunks and keeps the last one without a newline", () => {
    expect(split('{"a":', '1}\n{"b"', ":2}\npartial")).toEqual(['{"a":1}', '{"b":2}', "partial"]);
  });

  it("keeps only the final state of a progress bar and strips ANSI escapes", () => {
    expect(split("\r  1/3 10%\x1b[K\r  1/3 50%\x1b[K\r  1/3 100%\x1b[K\n")).toEqual(["  1/3 100%"]);
  });

  it("drops empty lines and survives a split multi-byte character", () => {
    const euro = Buffer.from("€\n");
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.push("\n\n");
    s.push(euro.subarray(0, 1));
    s.push(euro.subarray(1));
    s.end();
    expect(lines).toEqual(["€"]);
  });

  it("cuts a runaway line instead of growing without bound", () => {
    const lines = split("x".repeat(50_000));
    expect(lines[0]!.length).toBeLessThanOrEqual(10_001);
  });
});
