import { Command, CommanderError, Option } from "commander";
import { makeCtx, type Ctx } from "./context.ts";
import { CliError, errorLine, EXIT, outcomeExitCode } from "./errors.ts";
import { followJob } from "./follow.ts";
import { print, printJson, processIo, type Io } from "./io.ts";
import { cancel, jobsLs, jobsShow, logs } from "./commands/jobs.ts";
import { download } from "./commands/download.ts";
import { datasetCreate, datasetLs, datasetResume, datasetShow, datasetUpload } from "./commands/dataset.ts";
import { exportModel } from "./commands/export.ts";
import { login, logout, whoami } from "./commands/login.ts";
import { submit, train } from "./commands/submit.ts";
import { sweepCancel, sweepLs, sweepShow } from "./commands/sweep.ts";
import { VERSION } from "./version.ts";

const EXIT_CODES_HELP = `
Exit codes:
  0    done (a followed job, export or sweep SUCCEEDED / COMPLETED)
  1    a followed job, export or sweep FAILED
  2    a followed job, export or sweep was CANCELLED
  3    the server refused the request (its message is printed), a file problem, a checksum mismatch
  4    not logged in, or the token was refused (expired, revoked)
  5    the server could not be reached, or is unavailable (5xx)
  64   bad arguments
  130  interrupted while following (the job keeps running)

Environment: WYOLO_URL, WYOLO_TOKEN and WYOLO_PROJECT override what wyolo login saved
($XDG_CONFIG_HOME/wyolo/config.json, else ~/.config/wyolo/config.json).`;

type Action = (ctx: Ctx, ...args: never[]) => Promise<number> | number;

/**
 * Runs one command line and resolves with its exit code; never exits the process itself, so
 * tests run the real program with their own streams and environment.
 */
export async function run(argv: string[], io: Io = processIo(), signal: AbortSignal = new AbortController().signal): Promise<number> {
  let code: number = EXIT.OK;
  let json = argv.includes("--json");
  const program = new Command("wyolo");
  const act =
    (fn: Action) =>
    async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      json = !!cmd.optsWithGlobals().json;
      const ctx = makeCtx(io, json, signal);
      // Commander passes positional arguments, then the options, then the command.
      code = await (fn as (ctx: Ctx, ...a: unknown[]) => Promise<number> | number)(ctx, ...args.slice(0, -1));
    };

  program
    .description("Wyolo from the command line: submit, follow, download and export training jobs with an API token")
    .version(VERSION, "-V, --version")
    .option("--json", "machine-readable output (JSON; NDJSON lines while following)")
    .addHelpText("after", EXIT_CODES_HELP)
    .showHelpAfterError("(wyolo --help lists the commands)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  program
    .command("login")
    .description("store the server URL and an API token (checked with the server first)")
    .option("--url <url>", "the Wyolo server, e.g. https://wyolo.example.com")
    .option("--token-stdin", "read the token from stdin (otherwise WYOLO_TOKEN, or a hidden prompt)")
    .option("--project <team/project>", "default project for submit, jobs ls and sweep ls")
    .action(act((ctx, opts: { url?: string; tokenStdin?: boolean; project?: string }) => login(ctx, opts)));
  program
    .command("logout")
    .description("forget the stored token")
    .action(act((ctx) => logout(ctx)));
  program
    .command("whoami")
    .description("who the token belongs to, and its teams")
    .action(act((ctx) => whoami(ctx)));

  const priority = () => new Option("--priority <level>", "queue priority").choices(["low", "normal", "high"]).default("normal");
  program
    .command("submit")
    .description("submit a config.yaml as it is (a `sweeper.tune: true` config becomes a sweep); - reads stdin")
    .argument("<config>", "config.yaml (the old service's files work as they are)")
    .option("-p, --project <team/project>", "project (team/project slugs or an id)")
    .addOption(priority())
    .option("--name <name>", "job name (default: the config's task_id, or model · dataset)")
    .option("-f, --follow", "follow the job live and exit with its outcome")
    .action(act((ctx, file: string, opts) => submit(ctx, file, opts as object)));
  program
    .command("train")
    .description("the old `wyolo-train`: submit --config_path and follow it")
    .requiredOption("--config_path <path>", "config.yaml")
    .option("--trial_number <n>", "accepted for old scripts; Wyolo numbers sweep trials itself")
    .option("--fitness <name>", "accepted for old scripts; a sweep optimises sweeper.objective")
    .option("-p, --project <team/project>", "project (team/project slugs or an id)")
    .addOption(priority())
    .option("--no-follow", "submit only")
    .action(act((ctx, opts) => train(ctx, opts as object)));

  const jobs = program.command("jobs").description("list and inspect jobs");
  jobs
    .command("ls")
    .description("a project's jobs, newest first")
    .option("-p, --project <team/project>", "project (team/project slugs or an id)")
    .option("--status <list>", "comma-separated: QUEUED,STARTING,RUNNING,SUCCEEDED,FAILED,CANCELLED")
    .option("--limit <n>", "at most this many (1-100)", "25")
    .option("--trials", "include sweeps' trials")
    .action(act((ctx, opts) => jobsLs(ctx, opts as object)));
  jobs
    .command("show")
    .argument("<job>", "job id")
    .description("one job's status, progress and failure")
    .action(act((ctx, id: string) => jobsShow(ctx, id)));
  program
    .command("follow")
    .argument("<job>", "job id")
    .description("follow a job live (epoch table, progress) and exit with its outcome")
    .action(
      act(async (ctx, id: string) => {
        const { api, token } = ctx.api();
        const job = await followJob({ api, io: ctx.io, token, jobId: id, json: ctx.json, logs: false, signal: ctx.signal });
        return outcomeExitCode(job.status);
      }),
    );
  program
    .command("logs")
    .argument("<job>", "job id")
    .option("-f, --follow", "keep printing new lines until the job ends, and exit with its outcome")
    .description("a job's log")
    .action(act((ctx, id: string, opts) => logs(ctx, id, opts as object)));
  program
    .command("cancel")
    .argument("<job>", "job id")
    .description("cancel a job (it stops at the next epoch boundary)")
    .action(act((ctx, id: string) => cancel(ctx, id)));
  program
    .command("download")
    .argument("<job>", "job id")
    .argument("[artifact]", "best (default), last, or an artifact name such as results.csv or exports/onnx/best.onnx")
    .option("-o, --output <path>", "file or folder to write (default: the artifact's file name here)")
    .description("download an artifact; its sha256 is checked against the recorded one")
    .action(act((ctx, id: string, which: string | undefined, opts) => download(ctx, id, which, opts as object)));
  program
    .command("export")
    .argument("<job>", "job id")
    .description("export a finished job's best.pt (without --format: list its exports)")
    .option("--format <format>", "onnx, torchscript, openvino, engine, coreml, saved_model, tflite, …")
    .option("--imgsz <n>", "image size")
    .option("--batch <n>", "batch size")
    .option("--half", "FP16")
    .option("--int8", "INT8")
    .option("--dynamic", "dynamic shapes")
    .option("--opset <n>", "ONNX opset")
    .option("--wait", "wait for the export to end; exit with its outcome")
    .option("--download", "wait, then download the file (sha256 checked)")
    .option("-o, --output <path>", "with --download: file or folder to write")
    .action(act((ctx, id: string, opts) => exportModel(ctx, id, opts as object)));

  const sweep = program.command("sweep").description("hyperparameter sweeps");
  sweep
    .command("ls")
    .description("a project's sweeps")
    .option("-p, --project <team/project>", "project (team/project slugs or an id)")
    .option("--limit <n>", "at most this many (1-100)", "25")
    .action(act((ctx, opts) => sweepLs(ctx, opts as object)));
  sweep
    .command("show")
    .argument("<sweep>", "sweep id")
    .option("-f, --follow", "follow it to its end and exit with its outcome")
    .description("a sweep and its trials")
    .action(act((ctx, id: string, opts) => sweepShow(ctx, id, opts as object)));
  sweep
    .command("cancel")
    .argument("<sweep>", "sweep id")
    .description("cancel a sweep and its running trials")
    .action(act((ctx, id: string) => sweepCancel(ctx, id)));

  const dataset = program.command("dataset").description("versioned datasets of a team (train from one with data: dataset:<name>@v<N>)");
  const teamOption = () => new Option("-t, --team <team>", "team slug (default: the default project's team, or your only team)");
  dataset
    .command("ls")
    .description("the team's datasets and their newest READY version")
    .addOption(teamOption())
    .action(act((ctx, opts) => datasetLs(ctx, opts as object)));
  dataset
    .command("create")
    .argument("<name>", "lower-case letters, digits, . _ -")
    .option("--description <text>", "what it holds")
    .addOption(teamOption())
    .description("create a dataset")
    .action(act((ctx, name: string, opts) => datasetCreate(ctx, name, opts as object)));
  dataset
    .command("upload")
    .argument("<name>", "the dataset")
    .argument("[path]", "a folder (packed as .tar.gz) or a .zip/.tar/.tar.gz archive; with --from: the files to add or change")
    .option("--from <version>", "make the version from an older one, e.g. v2")
    .option("--remove <path...>", "with --from: paths to leave out of the new version")
    .addOption(teamOption())
    .description("upload a new version straight to the object store (parallel parts); its validation runs on a worker")
    .action(act((ctx, name: string, source: string | undefined, opts) => datasetUpload(ctx, name, source, opts as object)));
  dataset
    .command("resume")
    .argument("<version-id>", "the version whose upload was interrupted")
    .argument("<archive>", "the same archive")
    .description("finish an interrupted upload: only the parts not sent yet go")
    .action(act((ctx, id: string, source: string) => datasetResume(ctx, id, source)));
  dataset
    .command("show")
    .argument("<name>", "the dataset")
    .addOption(teamOption())
    .description("a dataset's versions: status, task, files, the jobs that used them")
    .action(act((ctx, name: string, opts) => datasetShow(ctx, name, opts as object)));

  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    const cliErr = err instanceof CliError ? err : new CliError(`Unexpected: ${(err as Error)?.message ?? String(err)}`);
    print(io.stderr, `error: ${errorLine(cliErr)}`);
    if (json)
      printJson(io.stdout, {
        error: { message: cliErr.message, ...(cliErr.fields ? { fields: cliErr.fields } : {}), exitCode: cliErr.exitCode },
      });
    return cliErr.exitCode;
  }
}
