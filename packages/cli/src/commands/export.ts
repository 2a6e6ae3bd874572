import type { Ctx } from "../context.ts";
import { CliError, EXIT, outcomeExitCode, usage } from "../errors.ts";
import { bytes, since, table } from "../format.ts";
import { print, printJson } from "../io.ts";
import { TERMINAL, type ExportRow } from "../types.ts";
import { destination, fetchArtifact, reportDownload } from "./download.ts";

export type ExportOptions = {
  format?: string;
  imgsz?: string;
  batch?: string;
  half?: boolean;
  int8?: boolean;
  dynamic?: boolean;
  opset?: string;
  wait?: boolean;
  download?: boolean;
  output?: string;
};

const int = (flag: string, v: string | undefined) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw usage(`${flag} must be a whole number`);
  return n;
};

/** The request body: only what was given; the server checks the rest (format, option per format) and answers field messages. */
export function exportBody(opts: ExportOptions): Record<string, unknown> {
  if (!opts.format) throw usage("--format is required (onnx, torchscript, openvino, engine, coreml, tflite, …)");
  const body: Record<string, unknown> = { format: opts.format.toLowerCase() };
  for (const [key, flag] of [
    ["imgsz", "--imgsz"],
    ["batch", "--batch"],
    ["opset", "--opset"],
  ] as const) {
    const n = int(flag, opts[key]);
    if (n !== undefined) body[key] = n;
  }
  for (const key of ["half", "int8", "dynamic"] as const) if (opts[key]) body[key] = true;
  return body;
}

/**
 * `wyolo export JOB --format onnx [--wait] [--download]`: asks for an export of the job's best.pt
 * (the server reuses an identical one); `--wait` follows it to its end, `--download` then fetches
 * the file, checksum verified. Without --format, lists the job's exports.
 */
export async function exportModel(ctx: Ctx, jobId: string, opts: ExportOptions): Promise<number> {
  const { api } = ctx.api();
  const base = `/jobs/${encodeURIComponent(jobId)}/exports`;
  if (!opts.format) {
    const { exports } = await api.get<{ exports: ExportRow[] }>(base);
    if (ctx.json) printJson(ctx.io.stdout, { exports });
    else if (!exports.length) print(ctx.io.stdout, "No exports yet: wyolo export JOB --format onnx");
    else
      print(
        ctx.io.stdout,
        table(
          ["ID", "FORMAT", "STATUS", "FILE", "SIZE", "CREATED"],
          exports.map((e) => [
            e.id,
            e.format,
            e.status,
            e.artifact?.name ?? "-",
            e.artifact ? bytes(e.artifact.size) : "-",
            since(e.createdAt),
          ]),
        ),
      );
    return EXIT.OK;
  }
  let exp = (await api.post<{ export: ExportRow }>(base, exportBody(opts))).export;
  if (!ctx.json) print(ctx.io.stderr, `Export ${exp.id} (${exp.format}): ${exp.status}`);
  if (opts.wait || opts.download) {
    let last = exp.status;
    while (!TERMINAL.includes(exp.status)) {
      if (ctx.signal.aborted) throw new CliError(`Stopped waiting; export ${exp.id} keeps running`, EXIT.INTERRUPTED);
      await new Promise((r) => setTimeout(r, 1000));
      const { exports } = await api.get<{ exports: ExportRow[] }>(base);
      exp = exports.find((e) => e.id === exp.id) ?? exp;
      if (exp.status !== last && !ctx.json) print(ctx.io.stderr, `Export ${exp.id}: ${exp.status}`);
      last = exp.status;
    }
  }
  const code = TERMINAL.includes(exp.status) ? outcomeExitCode(exp.status) : EXIT.OK;
  if (exp.status === "FAILED" && !ctx.json) print(ctx.io.stderr, `Export failed: ${exp.failureReason ?? "no reason recorded"}`);
  if (opts.download && exp.status === "SUCCEEDED" && exp.artifact) {
    const got = await fetchArtifact(api, ctx.io, jobId, exp.artifact, destination(ctx.io.cwd, exp.artifact.name, opts.output));
    if (ctx.json) printJson(ctx.io.stdout, { export: exp, download: got });
    else reportDownload(ctx, got);
    return code;
  }
  if (ctx.json) printJson(ctx.io.stdout, { export: exp });
  else if (exp.artifact)
    print(ctx.io.stdout, `${exp.artifact.name} (${bytes(exp.artifact.size)}): wyolo download ${jobId} ${exp.artifact.name}`);
  return code;
}
