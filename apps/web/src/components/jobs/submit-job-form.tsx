"use client";
import { useMutation } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { toast } from "sonner";
import { stringify as toYaml } from "yaml";
import { parseTrainingConfig, PRIORITIES, TASKS, type Priority, type Task } from "@wyolo/contracts";
import { Button, Card, Field, Input, Select } from "@/components/ui";
import { api, ApiRequestError } from "@/lib/api";
import type { JobSummary } from "@wyolo/contracts";

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

function simpleConfig(s: Simple, from?: StartFrom): Record<string, unknown> {
  const num = (v: string) => (v.trim() === "" ? v : Number(v));
  return {
    model: modelFile(s, from),
    type: from ? from.type : s.family === "rtdetr" ? "rtdetr" : "yolo",
    task: from ? from.task : s.task,
    train: { data: s.data, epochs: num(s.epochs), imgsz: num(s.imgsz), batch: s.batch === "auto" ? -1 : num(s.batch) },
  };
}

/**
 * Submission form: quick fields, or an advanced YAML editor (the old config.yaml shape) validated
 * as you type. With `startFrom`, the model is that job's weights (fine-tuning).
 */
export function SubmitJobForm({
  projectId,
  initialYaml,
  startFrom,
  onDone,
}: {
  projectId: string;
  initialYaml?: string;
  startFrom?: StartFrom;
  onDone: (job: JobSummary) => void;
}) {
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
  const [advanced, setAdvanced] = useState(initialYaml !== undefined);
  const [yaml, setYaml] = useState(initialYaml ?? "");
  const [serverErrors, setServerErrors] = useState<Record<string, string[]>>({});

  const config = advanced ? yaml : simpleConfig(simple, startFrom);
  const check = useMemo(() => parseTrainingConfig(config), [config]);
  const issues = check.ok ? [] : check.issues;
  const fieldError = (path: string) =>
    serverErrors[`config.${path}`]?.[0] ?? (advanced ? undefined : issues.find((i) => i.path === path)?.message);

  const submit = useMutation({
    mutationFn: () =>
      api<{ job: JobSummary; warnings: string[] }>(`/api/v1/projects/${projectId}/jobs`, {
        body: { name: simple.name.trim() || undefined, priority: simple.priority, config },
      }),
    onSuccess: ({ job, warnings }) => {
      toast.success(`Job “${job.name}” queued`);
      for (const w of warnings) toast.warning(w);
      onDone(job);
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
    setSimple((s) => {
      const next = { ...s, [key]: value };
      const fam = FAMILIES[next.family];
      if (!(fam.sizes as readonly string[]).includes(next.size)) next.size = fam.sizes[0];
      if (!fam.tasks.includes(next.task)) next.task = "detect";
      return next;
    });
  };

  const openAdvanced = () => {
    setYaml(toYaml(simpleConfig(simple, startFrom)));
    setAdvanced(true);
  };

  return (
    <Card className="mb-6">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!check.ok && !advanced) return toast.error("Fix the highlighted fields first");
          submit.mutate();
        }}
        className="space-y-4"
        noValidate
        aria-label="New training job"
      >
        <div className="grid gap-4 sm:grid-cols-3">
          <Field id="job-name" label="Job name (optional)" hint="Defaults to model · dataset">
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
            <Field id="job-epochs" label="Epochs" error={fieldError("train.epochs")}>
              <Input
                id="job-epochs"
                inputMode="numeric"
                value={simple.epochs}
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
            <Field id="job-batch" label="Batch" error={fieldError("train.batch")} hint="auto, a number, or a GPU memory fraction like 0.7">
              <Input
                id="job-batch"
                value={simple.batch}
                onChange={(e) => set("batch", e.target.value)}
                aria-invalid={!!fieldError("train.batch")}
              />
            </Field>
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
                  ✓ Valid: {check.config.model} · {check.config.task} · {check.config.train.epochs} epochs
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
            Submit job
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
