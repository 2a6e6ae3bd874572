import { StringDecoder } from "node:string_decoder";

// eslint-disable-next-line no-control-regex -- matching terminal escape sequences is the point
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const MAX_LINE = 10_000;

/**
 * Splits a byte stream into lines. Progress bars redraw with `\r`: only the last state of a
 * line is kept. ANSI escapes are removed; overlong lines are cut.
 */
export class LineSplitter {
  private buffer = "";
  private readonly decoder = new StringDecoder("utf8");

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string) {
    this.buffer += typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      this.emit(this.buffer.slice(0, nl));
      this.buffer = this.buffer.slice(nl + 1);
    }
    // A line that never ends (a runaway progress bar) is flushed rather than grown forever.
    if (this.buffer.length > MAX_LINE * 4) {
      this.emit(this.buffer);
      this.buffer = "";
    }
  }

  end() {
    this.buffer += this.decoder.end();
    if (this.buffer) this.emit(this.buffer);
    this.buffer = "";
  }

  private emit(raw: string) {
    const parts = raw
      .split("\r")
      .map((p) => p.replace(ANSI, "").trimEnd())
      .filter(Boolean);
    const line = parts[parts.length - 1];
    if (line) this.onLine(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line);
  }
}
