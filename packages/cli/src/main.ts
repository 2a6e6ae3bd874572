import { run } from "./cli.ts";
import { EXIT } from "./errors.ts";
import { processIo } from "./io.ts";

// Ctrl-C while following stops the follow (the job keeps running); a second one exits at once.
const interrupt = new AbortController();
process.once("SIGINT", () => {
  interrupt.abort();
  process.once("SIGINT", () => process.exit(EXIT.INTERRUPTED));
});
// `wyolo jobs ls | head` closes the pipe early: not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(EXIT.OK);
});

const code = await run(process.argv.slice(2), processIo(), interrupt.signal);
// Sockets and timers of a follow are closed by then; exit anyway, so nothing left open holds the code back.
process.exitCode = code;
setTimeout(() => process.exit(code), 100).unref();
