"use client";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useParams, useRouter } from "next/navigation";
import { useMemo, useState } from "react";
import { toast } from "sonner";
import { stringify as toYaml } from "yaml";
import { parseTrainingConfig, PRIORITIES, TASKS, type ConfigDefaults, type Priority, type Task } from "@wyolo/contracts";
import { Button, Card, Field, Input, Select } from "@/components/ui";
import { api, ApiRequestError } from "@/lib/api";
import { sweepPath } from "@/lib/sweeps";
import { defaultSweepValues, rowIssues, SweepFields, sweeperBlock, type SweepValues } from "@/components/sweeps/sweep-fields";
import type { JobSummary, SweepSummary } from "@wyolo/contracts";

const FAMILIES = {
  yolo11: { label: "YOLO11", sizes: ["n", "s", "m", "l", "x"], tasks: TASKS },
  yolov8: { label: "YOLOv8", sizes: ["n", "s", "m", "l", "x"], tasks: TASKS },
  rtdetr: { label: "RT-DETR", sizes: ["l", "x"], tasks: ["detect"] as readonly Task[] },
} as const;
type Family = keyof typeof FAMILIES;
const SUFFIX: Record<Task, string> = { detect: "", segment: "-seg", classify: "-cls", pose: "-pose", obb: "-obb" };

type Simple = {
  name: string;
  family: Family;
  size: string;
  task: Task;
  data: string;
  epochs: string;
  imgsz: string;
  batch: string;
  priority: Priority;
  weights: "best.pt" | "last.pt";
};

/** A finished job to fine-tune from: the new job's model is `job:<id>/best.pt` (or last.pt). */
export type StartFrom = { id: string; name: string; task: Task; type: "yolo" | "rtdetr"; data: string };

function modelFile(s: Simple, from?: StartFrom) {
  if (from) return `job:${from.id}/${s.weights}`;
  return s.family === "rtdetr" ? `rtdetr-${s.size}.pt` : `${s.family}${s.size}${SUFFIX[s.task]}.pt`;
}

/** An empty Epochs or Batch field leaves the value out, for the platform default to fill (only where there is one). */
function simpleConfig(s: Simple, from?: StartFrom, defaults: ConfigDefaults = {}): Record<string, unknown> {
  const num = (v: string) => (v.trim() === "" ? v : Number(v));
  const train: Record<string, unknown> = {
    data: s.data,
    epochs: num(s.epochs),
    imgsz: num(s.imgsz),
    batch: s.batch === "auto" ? -1 : num(s.batch),
  };
  if (s.epochs.trim() === "" && defaults.epochs !== undefined) delete train.epochs;
  if (s.batch.trim() === "" && defaults.batch !== undefined) delete train.batch;
  return {
    model: modelFile(s, from),
    type: from ? from.type : s.family === "rtdetr" ? "rtdetr" : "yolo",
    task: from ? from.task : s.task,
    train,
  };
}

/** " · epochs from DEFAULT_EPOCHS, …": the values a platform default filled in. */
function fromPlatform(sources: Record<string, string>): string {
  const named = Object.entries(sources).filter(([, from]) => from.startsWith("DEFAULT_"));
  return named.length ? ` · ${named.map(([path, from]) => `${path.replace(/^train\./, "")} from ${from}`).join(", ")}` : "";
}

/** The platform's DEFAULT_EPOCHS / DEFAULT_BATCH_SIZE, as the API applies them to configs that leave them out. */
function usePlatformDefaults(): ConfigDefaults {
  const query = useQuery({
    queryKey: ["config-defaults"],
    queryFn: () => api<{ defaults: ConfigDefaults }>("/api/v1/config-defaults").then((r) => r.defaults),
    staleTime: Infinity,
  });
  return query.data ?? NO_DEFAULTS;
}
const NO_DEFAULTS: ConfigDefaults = {};

/** What POST …/jobs answers: a job, or a sweep when the config's `sweeper.tune` is true. */
type Created = { job: JobSummary; warnings: string[]; kind?: "job" } | { kind: "sweep"; sweep: SweepSummary; warnings?: string[] };

/**
 * Submission form: quick fields, or an advanced YAML editor (the old config.yaml shape) validated
 * as you type. With `startFrom`, the model is that job's weights (fine-tuning). The Sweep tab adds
 * the `sweeper:` block (budgets, sampler, pruner, search space) and starts a sweep instead.
 */
export function SubmitJobForm({
  projectId,
  initialYaml,
  initialMode = "job",
  startFrom,
  onDone,
}: {
  projectId: string;
  initialYaml?: string;
  initialMode?: "job" | "sweep";
  startFrom?: StartFrom;
  onDone: (job: JobSummary) => void;
}) {
  const router = useRouter();
  const params = useParams<{ teamSlug: string; projectSlug: string }>();
  const [simple, setSimple] = useState<Simple>({
    name: "",
    family: "yolo11",
    size: "n",
    task: startFrom?.task ?? "detect",
    data: startFrom?.data ?? "",
    epochs: "50",
    imgsz: "640",
    batch: "auto",
    priority: "normal",
    weights: "best.pt",
  });
  const [mode, setMode] = useState(initialMode);
  const [sweep, setSweep] = useState<SweepValues>(() => defaultSweepValues(startFrom?.task ?? "detect"));
  const [advanced, setAdvanced] = useState(initialYaml !== undefined);
  const [yaml, setYaml] = useState(initialYaml ?? "");
  const [serverErrors, setServerErrors] = useState<Record<string, string[]>>({});
  const defaults = usePlatformDefaults();
  const [edited, setEdited] = useState<Partial<Record<keyof Simple, true>>>({});
  // Epochs and Batch show empty, untouched, where a platform default exists: the job then says the value came from it.
  const fields = useMemo<Simple>(
    () => ({
      ...simple,
      epochs: defaults.epochs !== undefined && !edited.epochs ? "" : simple.epochs,
      batch: defaults.batch !== undefined && !edited.batch ? "" : simple.batch,
    }),
    [simple, edited, defaults],
  );

  const sweeping = mode === "sweep" && !advanced;
  const config = useMemo(
    () =>
      advanced
        ? yaml
        : sweeping
          ? { ...simpleConfig(fields, startFrom, defaults), sweeper: sweeperBlock(sweep) }
          : simpleConfig(fields, startFrom, defaults),
    [advanced, yaml, sweeping, fields, startFrom, sweep, defaults],
  );
  const check = useMemo(() => parseTrainingConfig(config, { defaults }), [config, defaults]);
  const issues = check.ok ? [] : check.issues;
  const spaceIssues = sweeping ? rowIssues(sweep.space) : {};
  // Sweep paths match deeper issues too (`sweeper.search_space.lr0` shows `….lr0.high`).
  const fieldError = (path: string) =>
    serverErrors[`config.${path}`]?.[0] ??
    (advanced ? undefined : issues.find((i) => i.path === path || (path.startsWith("sweeper.") && i.path.startsWith(`${path}.`)))?.message);

  const openSweep = (s: SweepSummary) => {
    toast.success(`Sweep “${s.name}” started`);
    router.push(sweepPath(params.teamSlug, params.projectSlug, s.id));
  };
  const submit = useMutation({
    mutationFn: (): Promise<Created> => {
      const body = { name: simple.name.trim() || undefined, priority: simple.priority, config };
      return sweeping
        ? api<{ sweep: SweepSummary }>(`/api/v1/projects/${projectId}/sweeps`, { body }).then((r) => ({ kind: "sweep" as const, ...r }))
        : api<Created>(`/api/v1/projects/${projectId}/jobs`, { body });
    },
    onSuccess: (created) => {
      for (const w of created.warnings ?? []) toast.warning(w);
      if (created.kind === "sweep") return openSweep(created.sweep);
      toast.success(`Job “${created.job.name}” queued`);
      onDone(created.job);
    },
    onError: (err) => {
      if (err instanceof ApiRequestError) {
        toast.error(err.message);
        setServerErrors(err.fields);
      } else toast.error("Could not reach the server. Check your connection and try again.");
    },
  });

  const set = <K extends keyof Simple>(key: K, value: Simple[K]) => {
    setServerErrors({});
    setEdited((e) => (e[key] ? e : { ...e, [key]: true }));
    setSimple((s) => {
      const next = { ...s, [key]: value };
      const fam = FAMILIES[next.family];
      if (!(fam.sizes as readonly string[]).includes(next.size)) next.size = fam.sizes[0];
      if (!fam.tasks.includes(next.task)) next.task = "detect";
      return next;
    });
  };

  const openAdvanced = () => {
    setYaml(toYaml(sweeping ? config : simpleConfig(fields, startFrom, defaults)));
    setAdvanced(true);
  };
  const isSweep = advanced ? check.ok && !!check.sweep : mode === "sweep";

  return (
    <Card className="mb-6">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if ((!check.ok || Object.keys(spaceIssues).length) && !advanced) return toast.error("Fix the highlighted fields first");
          submit.mutate();
        }}
        className="space-y-4"
        noValidate
        aria-label={mode === "sweep" ? "New sweep" : "New training job"}
      >
        <div role="tablist" aria-label="What to start" className="flex gap-1 border-b border-zinc-200 dark:border-zinc-800">
          {(["job", "sweep"] as const).map((m) => (
            <button
              key={m}
              type="button"
              role="tab"
              aria-selected={mode === m}
              onClick={() => (setServerErrors({}), setMode(m))}
              className={
                "-mb-px border-b-2 px-3 py-2 text-sm font-medium " +
                (mode === m
                  ? "border-indigo-600 text-indigo-700 dark:border-indigo-400 dark:text-indigo-300"
                  : "border-transparent text-zinc-500 hover:text-zinc-800 dark:hover:text-zinc-200")
              }
            >
              {m === "job" ? "Training job" : "Sweep"}
            </button>
          ))}
        </div>
        <div className="grid gap-4 sm:grid-cols-3">
          <Field
            id="job-name"
            label={mode === "sweep" ? "Sweep name (optional)" : "Job name (optional)"}
            hint="Defaults to model · dataset"
          >
            <Input id="job-name" value={simple.name} onChange={(e) => set("name", e.target.value)} />
          </Field>
          <Field id="job-priority" label="Priority">
            <Select id="job-priority" value={simple.priority} onChange={(e) => set("priority", e.target.value as Priority)}>
              {PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </Select>
          </Field>
        </div>
        {!advanced ? (
          <div className="grid gap-4 sm:grid-cols-3">
            {startFrom ? (
              <div className="sm:col-span-3">
                <Field
                  id="job-start"
                  label="Start from"
                  error={serverErrors["config.model"]?.[0]}
                  hint={`Fine-tunes the weights of “${startFrom.name}” (${startFrom.task}); model: ${modelFile(simple, startFrom)}`}
                >
                  <Select id="job-start" value={simple.weights} onChange={(e) => set("weights", e.target.value as Simple["weights"])}>
                    <option value="best.pt">its best weights (best.pt)</option>
                    <option value="last.pt">its last weights (last.pt)</option>
                  </Select>
                </Field>
              </div>
            ) : (
              <>
                <Field id="job-family" label="Model family">
                  <Select id="job-family" value={simple.family} onChange={(e) => set("family", e.target.value as Family)}>
                    {Object.entries(FAMILIES).map(([k, f]) => (
                      <option key={k} value={k}>
                        {f.label}
                      </option>
                    ))}
                  </Select>
                </Field>
                <Field id="job-size" label="Size">
                  <Select id="job-size" value={simple.size} onChange={(e) => set("size", e.target.value)}>
                    {FAMILIES[simple.family].sizes.map((s) => (
                      <option key={s} value={s}>
                        {s}
                      </option>
                    ))}
                  </Select>
                </Field>
                <Field id="job-task" label="Task" hint={`Model: ${modelFile(simple)}`}>
                  <Select id="job-task" value={simple.task} onChange={(e) => set("task", e.target.value as Task)}>
                    {FAMILIES[simple.family].tasks.map((t) => (
                      <option key={t} value={t}>
                        {t}
                      </option>
                    ))}
                  </Select>
                </Field>
              </>
            )}
            <div className="sm:col-span-3">
              <Field
                id="job-data"
                label="Dataset path"
                error={simple.data ? fieldError("train.data") : serverErrors["config.train.data"]?.[0]}
                hint="The dataset YAML (or folder for classification), relative to the worker's datasets directory (DATASETS_DIR)"
              >
                <Input id="job-data" placeholder="shapes/data.yaml" value={simple.data} onChange={(e) => set("data", e.target.value)} />
              </Field>
            </div>
            <Field
              id="job-epochs"
              label="Epochs"
              error={fieldError("train.epochs")}
              hint={
                [
                  mode === "sweep" ? "Each trial’s budget; the pruner may stop it sooner" : "",
                  defaults.epochs !== undefined ? `Empty: the platform default, ${defaults.epochs} (DEFAULT_EPOCHS)` : "",
                ]
                  .filter(Boolean)
                  .join(". ") || undefined
              }
            >
              <Input
                id="job-epochs"
                inputMode="numeric"
                placeholder={defaults.epochs !== undefined ? String(defaults.epochs) : undefined}
                value={fields.epochs}
                onChange={(e) => set("epochs", e.target.value)}
                aria-invalid={!!fieldError("train.epochs")}
              />
            </Field>
            <Field id="job-imgsz" label="Image size" error={fieldError("train.imgsz")}>
              <Input
                id="job-imgsz"
                inputMode="numeric"
                value={simple.imgsz}
                onChange={(e) => set("imgsz", e.target.value)}
                aria-invalid={!!fieldError("train.imgsz")}
              />
            </Field>
            <Field
              id="job-batch"
              label="Batch"
              error={fieldError("train.batch")}
              hint={`auto, a number, or a GPU memory fraction like 0.7${
                defaults.batch !== undefined
                  ? `. Empty: the platform default, ${defaults.batch === -1 ? "auto" : defaults.batch} (DEFAULT_BATCH_SIZE)`
                  : ""
              }`}
            >
              <Input
                id="job-batch"
                placeholder={defaults.batch !== undefined ? (defaults.batch === -1 ? "auto" : String(defaults.batch)) : undefined}
                value={fields.batch}
                onChange={(e) => set("batch", e.target.value)}
                aria-invalid={!!fieldError("train.batch")}
              />
            </Field>
            {mode === "sweep" && (
              <div className="sm:col-span-3">
                <SweepFields
                  value={sweep}
                  onChange={(v) => (setServerErrors({}), setSweep(v))}
                  task={startFrom?.task ?? simple.task}
                  error={fieldError}
                />
              </div>
            )}
          </div>
        ) : (
          <div>
            <label htmlFor="job-yaml" className="block text-sm font-medium">
              Config (YAML)
            </label>
            <textarea
              id="job-yaml"
              value={yaml}
              onChange={(e) => (setServerErrors({}), setYaml(e.target.value))}
              spellCheck={false}
              rows={14}
              aria-invalid={!check.ok}
              aria-describedby="job-yaml-status"
              className="mt-1 block w-full rounded-md border border-zinc-300 bg-zinc-50 p-3 font-mono text-xs dark:border-zinc-700 dark:bg-zinc-950"
            />
            <div id="job-yaml-status" aria-live="polite" className="mt-2 text-xs">
              {check.ok && !Object.keys(serverErrors).length ? (
                <p className="text-emerald-700 dark:text-emerald-400">
                  {check.sweep
                    ? `✓ Valid sweep: ${check.config.model} · ${check.config.task} · ${check.sweep.n_trials} trials of ${check.config.train.epochs} epochs · ${check.sweep.sampler} · ${check.sweep.pruner} pruner`
                    : `✓ Valid: ${check.config.model} · ${check.config.task} · ${check.config.train.epochs} epochs`}
                  {fromPlatform(check.sources)}
                  {check.warnings.map((w) => (
                    <span key={w} className="block text-amber-700 dark:text-amber-400">
                      {w}
                    </span>
                  ))}
                </p>
              ) : (
                <ul className="space-y-0.5 text-red-600 dark:text-red-400">
                  {[
                    ...issues,
                    ...Object.entries(serverErrors).map(([path, m]) => ({ path: path.replace(/^config\.?/, ""), message: m.join(", ") })),
                  ].map((i) => (
                    <li key={`${i.path}:${i.message}`}>
                      <code>{i.path || "config"}</code>: {i.message}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </div>
        )}
        <div className="flex flex-wrap items-center gap-2">
          <Button type="submit" busy={submit.isPending} disabled={advanced && !check.ok}>
            {isSweep ? "Start sweep" : "Submit job"}
          </Button>
          {advanced ? (
            <Button type="button" variant="ghost" onClick={() => setAdvanced(false)}>
              Back to the simple form
            </Button>
          ) : (
            <Button type="button" variant="ghost" onClick={openAdvanced}>
              Advanced (YAML)
            </Button>
          )}
        </div>
      </form>
    </Card>
  );
}
