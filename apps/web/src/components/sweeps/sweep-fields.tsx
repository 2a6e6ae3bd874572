"use client";
import {
  defaultSearchSpace,
  SWEEP_DIRECTIONS,
  SWEEP_PRUNERS,
  SWEEP_SAMPLERS,
  TRAIN_ARG_NAMES,
  type SearchParam,
  type SearchSpace,
  type Task,
} from "@wyolo/contracts";
import { Button, Field, Input, Select } from "@/components/ui";

type ParamType = SearchParam["type"];
export type SpaceRow = { key: number; arg: string; type: ParamType; low: string; high: string; log: boolean; choices: string };
export type SweepValues = {
  n_trials: string;
  parallel: string;
  sampler: (typeof SWEEP_SAMPLERS)[number];
  pruner: (typeof SWEEP_PRUNERS)[number];
  grace_period: string;
  direction: (typeof SWEEP_DIRECTIONS)[number];
  objective: string;
  timeout: string;
  space: SpaceRow[];
};

/** Arguments a sweep may not vary (the dataset, and epochs: each trial's budget). */
const SEARCHABLE = TRAIN_ARG_NAMES.filter((a) => a !== "data" && a !== "epochs");
const OBJECTIVES = ["fitness", "metrics/mAP50-95(B)", "metrics/mAP50(B)", "metrics/precision(B)", "metrics/recall(B)", "val/box_loss"];
const PRUNER_LABELS: Record<SweepValues["pruner"], string> = {
  successive_halving: "successive halving (ASHA)",
  hyperband: "hyperband",
  median: "median",
  none: "none",
};

const ROW_GRID = "sm:grid-cols-[minmax(8rem,1.2fr)_7rem_1fr_1fr_3.5rem_2.5rem] sm:items-center";
let nextKey = 1;
export function spaceRows(space: SearchSpace): SpaceRow[] {
  return Object.entries(space).map(([arg, p]) => ({
    key: nextKey++,
    arg,
    type: p.type,
    low: p.type === "categorical" ? "" : String(p.low),
    high: p.type === "categorical" ? "" : String(p.high),
    log: p.type === "categorical" ? false : p.log,
    choices: p.type === "categorical" ? p.choices.map(String).join(", ") : "",
  }));
}

export const defaultSweepValues = (task: Task): SweepValues => ({
  n_trials: "20",
  parallel: "2",
  sampler: "TPESampler",
  pruner: "successive_halving",
  grace_period: "1",
  direction: "maximize",
  objective: "fitness",
  timeout: "",
  space: spaceRows(defaultSearchSpace(task)),
});

const num = (v: string) => (v.trim() === "" ? v : Number(v));
function choice(v: string): string | number | boolean {
  const t = v.trim();
  if (t === "true" || t === "false") return t === "true";
  return t !== "" && Number.isFinite(Number(t)) ? Number(t) : t;
}

/** The `sweeper:` block of the config, as the server's parser reads it. */
export function sweeperBlock(v: SweepValues): Record<string, unknown> {
  const space: Record<string, unknown> = {};
  for (const r of v.space) {
    if (!r.arg) continue;
    space[r.arg] =
      r.type === "categorical"
        ? {
            type: r.type,
            choices: r.choices
              .split(",")
              .filter((c) => c.trim() !== "")
              .map(choice),
          }
        : { type: r.type, low: num(r.low), high: num(r.high), ...(r.log ? { log: true } : {}) };
  }
  return {
    tune: true,
    n_trials: num(v.n_trials),
    parallel: num(v.parallel),
    sampler: v.sampler,
    pruner: v.pruner,
    grace_period: num(v.grace_period),
    direction: v.direction,
    objective: v.objective.trim(),
    ...(v.timeout.trim() ? { timeout: num(v.timeout) } : {}),
    search_space: space,
  };
}

/** Client-side checks the config parser cannot make from the block (a row it would drop, an argument listed twice). */
export function rowIssues(rows: SpaceRow[]): Record<number, string> {
  const seen = new Set<string>();
  const out: Record<number, string> = {};
  for (const r of rows) {
    if (!r.arg) out[r.key] = "Choose an argument";
    else if (seen.has(r.arg)) out[r.key] = `\`${r.arg}\` is listed twice`;
    seen.add(r.arg);
  }
  return out;
}

/**
 * The Sweep tab's own fields: budgets, sampler, pruner, objective and the search space
 * (one row per train argument). `error(path)` gives the parser's message for a config path.
 */
export function SweepFields({
  value,
  onChange,
  task,
  error,
}: {
  value: SweepValues;
  onChange: (v: SweepValues) => void;
  task: Task;
  error: (path: string) => string | undefined;
}) {
  const set = <K extends keyof SweepValues>(k: K, v: SweepValues[K]) => onChange({ ...value, [k]: v });
  const setRow = (key: number, patch: Partial<SpaceRow>) =>
    set(
      "space",
      value.space.map((r) => (r.key === key ? { ...r, ...patch } : r)),
    );
  const issues = rowIssues(value.space);
  const text = (id: keyof SweepValues, label: string, hint?: string, numeric = true) => (
    <Field id={`sweep-${id}`} label={label} error={error(`sweeper.${id}`)} hint={hint}>
      <Input
        id={`sweep-${id}`}
        inputMode={numeric ? "numeric" : undefined}
        value={value[id] as string}
        onChange={(e) => set(id, e.target.value as never)}
        aria-invalid={!!error(`sweeper.${id}`)}
      />
    </Field>
  );

  return (
    <fieldset className="space-y-4" aria-label="Sweep settings">
      <div className="grid gap-4 sm:grid-cols-4">
        {text("n_trials", "Trials", "Trials in the study (n_trials)")}
        {text("parallel", "Parallel", "Trials running at once, over every worker")}
        <Field id="sweep-sampler" label="Sampler" error={error("sweeper.sampler")}>
          <Select id="sweep-sampler" value={value.sampler} onChange={(e) => set("sampler", e.target.value as SweepValues["sampler"])}>
            {SWEEP_SAMPLERS.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </Select>
        </Field>
        <Field id="sweep-direction" label="Direction">
          <Select
            id="sweep-direction"
            value={value.direction}
            onChange={(e) => set("direction", e.target.value as SweepValues["direction"])}
          >
            {SWEEP_DIRECTIONS.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </Select>
        </Field>
        <Field id="sweep-pruner" label="Pruner" error={error("sweeper.pruner")} hint="Stops weak trials at an epoch boundary">
          <Select id="sweep-pruner" value={value.pruner} onChange={(e) => set("pruner", e.target.value as SweepValues["pruner"])}>
            {SWEEP_PRUNERS.map((p) => (
              <option key={p} value={p}>
                {PRUNER_LABELS[p]}
              </option>
            ))}
          </Select>
        </Field>
        {text("grace_period", "Grace period", "Epochs before a trial may be pruned")}
        <Field id="sweep-objective" label="Objective" error={error("sweeper.objective")} hint="fitness, or a recorded metric name">
          <Input
            id="sweep-objective"
            list="sweep-objectives"
            value={value.objective}
            onChange={(e) => set("objective", e.target.value)}
            aria-invalid={!!error("sweeper.objective")}
          />
          <datalist id="sweep-objectives">
            {OBJECTIVES.map((o) => (
              <option key={o} value={o} />
            ))}
          </datalist>
        </Field>
        {text("timeout", "Timeout (seconds, optional)", "No new trial starts after it")}
      </div>

      <div>
        <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
          <h3 className="text-sm font-semibold">Search space</h3>
          <div className="flex gap-2">
            <Button
              type="button"
              variant="secondary"
              onClick={() =>
                set("space", [...value.space, { key: nextKey++, arg: "", type: "float", low: "", high: "", log: false, choices: "" }])
              }
            >
              Add argument
            </Button>
            <Button type="button" variant="ghost" onClick={() => set("space", spaceRows(defaultSearchSpace(task)))}>
              Reset to Ultralytics’ space
            </Button>
          </div>
        </div>
        {error("sweeper.search_space") && (
          <p role="alert" className="mb-2 text-xs text-red-600 dark:text-red-400">
            {error("sweeper.search_space")}
          </p>
        )}
        {value.space.length === 0 && (
          <p className="text-xs text-zinc-500">Empty: the sweep searches Ultralytics’ own space for the task ({task}).</p>
        )}
        <div aria-hidden className={`hidden gap-2 px-2 pb-1 text-xs text-zinc-500 sm:grid ${ROW_GRID}`}>
          <span>Argument</span>
          <span>Type</span>
          <span>Low · or choices</span>
          <span>High</span>
        </div>
        <ul className="max-h-96 space-y-2 overflow-y-auto pr-1" aria-label="Search space">
          {value.space.map((r) => {
            const rowError = issues[r.key] ?? (r.arg ? error(`sweeper.search_space.${r.arg}`) : undefined);
            const id = `space-${r.key}`;
            return (
              <li
                key={r.key}
                aria-label={r.arg || "new argument"}
                className={`grid grid-cols-2 items-end gap-2 rounded-md border border-zinc-200 p-2 ${ROW_GRID} dark:border-zinc-800`}
              >
                <label className="text-xs text-zinc-500">
                  <span className="sm:sr-only">Argument</span>
                  <Select
                    aria-label="Argument"
                    value={r.arg}
                    onChange={(e) => setRow(r.key, { arg: e.target.value })}
                    aria-invalid={!!rowError}
                    aria-describedby={rowError ? `${id}-error` : undefined}
                    className="mt-0.5"
                  >
                    <option value="">choose…</option>
                    {SEARCHABLE.map((a) => (
                      <option key={a}>{a}</option>
                    ))}
                  </Select>
                </label>
                <label className="text-xs text-zinc-500">
                  <span className="sm:sr-only">Type</span>
                  <Select
                    aria-label="Type"
                    value={r.type}
                    onChange={(e) => setRow(r.key, { type: e.target.value as ParamType })}
                    className="mt-0.5"
                  >
                    <option value="float">float</option>
                    <option value="int">int</option>
                    <option value="categorical">categorical</option>
                  </Select>
                </label>
                {r.type === "categorical" ? (
                  <label className="col-span-2 text-xs text-zinc-500">
                    <span className="sm:sr-only">Choices (comma-separated)</span>
                    <Input
                      aria-label="Choices"
                      value={r.choices}
                      onChange={(e) => setRow(r.key, { choices: e.target.value })}
                      placeholder="SGD, AdamW"
                      className="mt-0.5"
                    />
                  </label>
                ) : (
                  <>
                    <label className="text-xs text-zinc-500">
                      <span className="sm:sr-only">Low</span>
                      <Input
                        aria-label="Low"
                        inputMode="decimal"
                        value={r.low}
                        onChange={(e) => setRow(r.key, { low: e.target.value })}
                        className="mt-0.5"
                      />
                    </label>
                    <label className="text-xs text-zinc-500">
                      <span className="sm:sr-only">High</span>
                      <Input
                        aria-label="High"
                        inputMode="decimal"
                        value={r.high}
                        onChange={(e) => setRow(r.key, { high: e.target.value })}
                        className="mt-0.5"
                      />
                    </label>
                  </>
                )}
                <label className="flex items-center gap-1.5 pb-2 text-xs sm:pb-0">
                  <input
                    type="checkbox"
                    checked={r.log}
                    disabled={r.type === "categorical"}
                    onChange={(e) => setRow(r.key, { log: e.target.checked })}
                  />
                  log
                </label>
                <Button
                  type="button"
                  variant="ghost"
                  aria-label={`Remove ${r.arg || "this row"}`}
                  onClick={() =>
                    set(
                      "space",
                      value.space.filter((x) => x.key !== r.key),
                    )
                  }
                >
                  ✕
                </Button>
                {rowError && (
                  <p id={`${id}-error`} role="alert" className="col-span-full text-xs text-red-600 dark:text-red-400">
                    {rowError}
                  </p>
                )}
              </li>
            );
          })}
        </ul>
      </div>
    </fieldset>
  );
}
