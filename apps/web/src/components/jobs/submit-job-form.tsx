"use client";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useParams, useRouter } from "next/navigation";
import { useMemo, useState } from "react";
import { toast } from "sonner";
import { stringify as toYaml } from "yaml";
import {
  modelKind,
  parseTrainingConfig,
  PRIORITIES,
  TASK_SUFFIX,
  TASKS,
  type ConfigDefaults,
  type Priority,
  type Task,
  type TrainableVersion,
} from "@wyolo/contracts";
import { Button, Card, Field, Input, Select } from "@/components/ui";
import { api, ApiRequestError } from "@/lib/api";
import { sweepPath } from "@/lib/sweeps";
import { defaultSweepValues, rowIssues, SweepFields, sweeperBlock, type SweepValues } from "@/components/sweeps/sweep-fields";
import type { JobSummary, SweepSummary } from "@wyolo/contracts";
import type { TrainingOptions } from "@/server/workers/training-options";
import { placeIssues } from "./yaml-issues";
import { YamlEditor } from "./yaml-editor";

/** The dataset picker's entry for a path typed by hand. */
const OTHER = "";

type Simple = {
  name: string;
  task: Task;
  model: string;
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
  return from ? `job:${from.id}/${s.weights}` : s.model;
}

/** Named weights a worker has for the task (yolo11n first), else the nano YOLO11 architecture, which every worker trains. */
function defaultModel(task: Task, options?: TrainingOptions): string {
  const weights = (options?.weights ?? []).filter((w) => w.task === task).map((w) => w.model);
  const preferred = [`yolo11n${TASK_SUFFIX[task]}.pt`, `yolov8n${TASK_SUFFIX[task]}.pt`].find((m) => weights.includes(m));
  return preferred ?? weights[0] ?? `yolo11n${TASK_SUFFIX[task]}.yaml`;
}

/** Reported datasets of the layout the task reads: classification roots for classify, dataset YAMLs for the others. */
const datasetsFor = (task: Task, options?: TrainingOptions) =>
  (options?.datasets ?? []).filter((d) => (task === "classify") === (d.kind === "classify"));

/** A version of the task's kind (a detect job trains from segment polygons too), as the server checks it. */
const versionsFor = (task: Task, versions: TrainableVersion[]) =>
  versions.filter((v) => !v.task || v.task === task || (task === "detect" && v.task === "segment"));

/** The team's READY dataset versions (the project's team), for the picker. */
function useDatasetVersions(projectId: string): TrainableVersion[] {
  const teamId = useQuery({
    queryKey: ["project-team", projectId],
    queryFn: () => api<{ project: { team: { id: string } } }>(`/api/v1/projects/${projectId}`).then((r) => r.project.team.id),
    staleTime: 300_000,
  }).data;
  return (
    useQuery({
      queryKey: ["dataset-versions", teamId],
      enabled: !!teamId,
      queryFn: () => api<{ versions: TrainableVersion[] }>(`/api/v1/teams/${teamId}/datasets/versions`).then((r) => r.versions),
      staleTime: 30_000,
    }).data ?? []
  );
}

/** What the workers can train from (architectures always; weights and datasets as reported). */
function useTrainingOptions(): TrainingOptions | undefined {
  return useQuery({
    queryKey: ["training-options"],
    queryFn: () => api<TrainingOptions>("/api/v1/workers/training-options"),
    staleTime: 30_000,
  }).data;
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
    type: from ? from.type : modelKind(s.model).type,
    task: from ? from.task : s.task,
    train,
  };
}

/** The simple form's field for each config path, to focus the first one with an issue. */
const FIELD_IDS: Record<string, string> = {
  model: "job-model",
  "train.data": "job-data",
  "train.epochs": "job-epochs",
  "train.imgsz": "job-imgsz",
  "train.batch": "job-batch",
};

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
    task: startFrom?.task ?? "detect",
    model: "",
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
  const options = useTrainingOptions();
  const [edited, setEdited] = useState<Partial<Record<keyof Simple, true>>>({});
  // Set by a submit with issues: from then on empty required fields show their message too.
  const [attempted, setAttempted] = useState(false);
  const datasets = useMemo(() => datasetsFor(simple.task, options), [simple.task, options]);
  const allVersions = useDatasetVersions(projectId);
  const versions = useMemo(() => versionsFor(simple.task, allVersions), [simple.task, allVersions]);
  // Untouched fields follow what the workers reported: the task's default model, the first dataset
  // of the task's layout, and that dataset's image size. Epochs and Batch show empty, untouched,
  // where a platform default exists: the job then says the value came from it.
  const fields = useMemo<Simple>(() => {
    // The team's newest version of the task's kind first, else the first dataset the workers have.
    const suggested = versions[0]?.ref ?? datasets[0]?.path;
    const data = edited.data || startFrom || !suggested ? simple.data : suggested;
    const picked = datasets.find((d) => d.path === data);
    return {
      ...simple,
      model: edited.model && simple.model ? simple.model : defaultModel(simple.task, options),
      data,
      imgsz: !edited.imgsz && picked?.imgsz ? String(picked.imgsz) : simple.imgsz,
      epochs: defaults.epochs !== undefined && !edited.epochs ? "" : simple.epochs,
      batch: defaults.batch !== undefined && !edited.batch ? "" : simple.batch,
    };
  }, [simple, edited, defaults, options, datasets, versions, startFrom]);
  const pickedDataset = datasets.find((d) => d.path === fields.data);
  const pickedVersion = versions.find((v) => v.ref === fields.data);
  const pickable = datasets.length + versions.length > 0;
  const architectures = (options?.architectures ?? []).filter((a) => a.task === simple.task);
  const weightsOffered = (options?.weights ?? []).filter((w) => w.task === simple.task);

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
  const issues = useMemo(() => (check.ok ? [] : check.issues), [check]);
  const spaceIssues = sweeping ? rowIssues(sweep.space) : {};
  // Sweep paths match deeper issues too (`sweeper.search_space.lr0` shows `….lr0.high`).
  const fieldError = (path: string) =>
    serverErrors[`config.${path}`]?.[0] ??
    (advanced ? undefined : issues.find((i) => i.path === path || (path.startsWith("sweeper.") && i.path.startsWith(`${path}.`)))?.message);
  const yamlIssues = useMemo(
    () =>
      advanced
        ? placeIssues(yaml, [
            ...issues,
            ...Object.entries(serverErrors).map(([path, m]) => ({ path: path.replace(/^config\.?/, ""), message: m.join(", ") })),
          ])
        : [],
    [advanced, yaml, issues, serverErrors],
  );

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
    // Another task has other models and datasets: those follow its defaults again.
    setEdited((e) => (key === "task" ? { ...e, model: undefined, data: undefined } : e[key] ? e : { ...e, [key]: true }));
    setSimple((s) => ({ ...s, [key]: value }));
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
          if ((!check.ok || Object.keys(spaceIssues).length) && !advanced) {
            setAttempted(true);
            const first = check.ok ? undefined : FIELD_IDS[check.issues[0]?.path ?? ""];
            // After the render that shows the messages, so the screen reader reads the field with its message.
            if (first) setTimeout(() => document.getElementById(first)?.focus());
            return toast.error("Fix the highlighted fields first");
          }
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
                <Field id="job-task" label="Task">
                  <Select id="job-task" value={simple.task} onChange={(e) => set("task", e.target.value as Task)}>
                    {TASKS.map((t) => (
                      <option key={t} value={t}>
                        {t}
                      </option>
                    ))}
                  </Select>
                </Field>
                <div className="sm:col-span-2">
                  <Field
                    id="job-model"
                    label="Model"
                    error={fieldError("model")}
                    hint={
                      fields.model.endsWith(".yaml")
                        ? "An architecture: trained from scratch (no weights file needed)"
                        : "Pretrained weights a worker has (WEIGHTS_DIR or WEIGHTS_S3_PREFIX)"
                    }
                  >
                    <Select id="job-model" value={fields.model} onChange={(e) => set("model", e.target.value)}>
                      {weightsOffered.length > 0 && (
                        <optgroup label="Pretrained weights on the workers">
                          {weightsOffered.map((w) => (
                            <option key={w.model} value={w.model}>
                              {w.model}
                            </option>
                          ))}
                        </optgroup>
                      )}
                      <optgroup label="Architectures (from scratch)">
                        {(architectures.length ? architectures : [{ model: fields.model }]).map((a) => (
                          <option key={a.model} value={a.model}>
                            {a.model}
                          </option>
                        ))}
                      </optgroup>
                    </Select>
                  </Field>
                </div>
              </>
            )}
            <div className="grid gap-4 sm:col-span-3 sm:grid-cols-3">
              {pickable && (
                <Field
                  id="job-dataset"
                  label="Dataset"
                  hint={
                    versions.length
                      ? "A version of the team's datasets (fetched by the worker), or a path in the workers' DATASETS_DIR"
                      : `Found by ${options && options.workers > 1 ? "the workers" : "the worker"} in DATASETS_DIR`
                  }
                >
                  <Select
                    id="job-dataset"
                    value={pickedVersion?.ref ?? pickedDataset?.path ?? OTHER}
                    onChange={(e) => {
                      set("data", e.target.value);
                      if (e.target.value === OTHER) document.getElementById("job-data")?.focus();
                    }}
                  >
                    {versions.length > 0 && (
                      <optgroup label="Dataset versions">
                        {versions.map((v) => (
                          <option key={v.ref} value={v.ref}>
                            {v.label}
                            {v.latest ? " (latest)" : ""} · {v.task ?? "?"}, {v.classCount} class{v.classCount === 1 ? "" : "es"}
                          </option>
                        ))}
                      </optgroup>
                    )}
                    {datasets.length > 0 && (
                      <optgroup label="In DATASETS_DIR">
                        {datasets.map((d) => (
                          <option key={d.path} value={d.path}>
                            {d.path}
                            {d.imgsz ? ` (${d.imgsz} px)` : ""}
                          </option>
                        ))}
                      </optgroup>
                    )}
                    <option value={OTHER}>Another path…</option>
                  </Select>
                </Field>
              )}
              <div className={pickable ? "sm:col-span-2" : "sm:col-span-3"}>
                <Field
                  id="job-data"
                  label="Dataset path"
                  error={fields.data || attempted ? fieldError("train.data") : serverErrors["config.train.data"]?.[0]}
                  hint={
                    pickedVersion
                      ? `${pickedVersion.label}: ${pickedVersion.fileCount ?? "?"} files, validated; the job records this exact version`
                      : simple.task === "classify"
                        ? "dataset:<name>@v<N>, or the dataset folder (train/ and val/, a folder per class) relative to the workers' datasets directory (DATASETS_DIR)"
                        : "dataset:<name>@v<N>, or the dataset YAML relative to the workers' datasets directory (DATASETS_DIR)"
                  }
                >
                  <Input
                    id="job-data"
                    placeholder={simple.task === "classify" ? "flowers" : "shapes/data.yaml"}
                    value={fields.data}
                    onChange={(e) => set("data", e.target.value)}
                    aria-invalid={!!((fields.data || attempted) && fieldError("train.data"))}
                  />
                </Field>
              </div>
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
            <Field
              id="job-imgsz"
              label="Image size"
              error={fieldError("train.imgsz")}
              hint={!edited.imgsz && pickedDataset?.imgsz ? "The dataset's image size" : undefined}
            >
              <Input
                id="job-imgsz"
                inputMode="numeric"
                value={fields.imgsz}
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
            <YamlEditor
              id="job-yaml"
              value={yaml}
              onChange={(text) => (setServerErrors({}), setYaml(text))}
              issues={yamlIssues}
              describedBy="job-yaml-status"
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
                <ul className="space-y-0.5 text-red-600 dark:text-red-400" aria-label="Config issues">
                  {yamlIssues.map((i) => (
                    <li key={`${i.line}:${i.path}:${i.message}`}>
                      <span className="font-medium">line {i.line}</span> · <code>{i.path || "config"}</code>: {i.message}
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
