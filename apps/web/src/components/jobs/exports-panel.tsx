"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import {
  EXPORT_FORMAT_INFO,
  exportOptionsSchema,
  TERMINAL_STATUSES,
  type ExportFormat,
  type ExportOptions,
  type ExportSummary,
} from "@wyolo/contracts";
import { Button, Card, Field, Input, Select } from "@/components/ui";
import { JobStatusBadge } from "@/components/job-status";
import { api } from "@/lib/api";
import { reportError } from "@/lib/form-errors";
import { formatBytes } from "@/lib/format";
import { useLive } from "@/lib/live";

type ExportList = { exports: ExportSummary[]; availableFormats: ExportFormat[]; canExport: boolean };
type FormValues = { format: ExportFormat | ""; imgsz: string; half: boolean; int8: boolean; dynamic: boolean };

export const exportsKey = (jobId: string) => ["job-exports", jobId];

function describe(o: ExportOptions): string {
  const parts = [
    o.half && "FP16",
    o.int8 && "INT8",
    o.dynamic && "dynamic",
    o.imgsz && `${o.imgsz}px`,
    o.batch && o.batch !== 1 && `batch ${o.batch}`,
    o.opset && `opset ${o.opset}`,
  ].filter(Boolean);
  return parts.length ? parts.join(" · ") : "defaults";
}

/**
 * Exports of a finished job: ask for one (MEMBER and up, formats the online workers support)
 * and follow its status live; a finished export's file is also in the job's artifact list.
 */
/** `trainImgsz`: the job's training image size, which an export without one uses. */
export function ExportsPanel({
  jobId,
  jobSucceeded,
  hasWeights,
  trainImgsz,
}: {
  jobId: string;
  jobSucceeded: boolean;
  hasWeights: boolean;
  trainImgsz?: number;
}) {
  const queryClient = useQueryClient();
  const key = exportsKey(jobId);
  const list = useQuery({ queryKey: key, queryFn: () => api<ExportList>(`/api/v1/jobs/${jobId}/exports`) });
  useLive(
    { jobId },
    {
      "export:updated": (patch) => {
        if (patch.jobId !== jobId) return;
        queryClient.setQueryData<ExportList>(key, (d) => {
          if (!d) return d;
          if (!d.exports.some((e) => e.id === patch.id)) {
            // A new export (asked for elsewhere): fetch it whole.
            void queryClient.invalidateQueries({ queryKey: key });
            return d;
          }
          return { ...d, exports: d.exports.map((e) => (e.id === patch.id ? { ...e, ...patch } : e)) };
        });
      },
    },
    () => void queryClient.invalidateQueries({ queryKey: key }),
  );

  const form = useForm<FormValues>({ defaultValues: { format: "", imgsz: "", half: false, int8: false, dynamic: false } });
  const format = form.watch("format");
  const formats = list.data?.availableFormats ?? [];
  const options = format ? EXPORT_FORMAT_INFO[format].options : [];
  /** The form as the API's body: only the options the chosen format takes. */
  const toBody = (v: FormValues): Record<string, unknown> => {
    const body: Record<string, unknown> = { format: v.format };
    if (v.imgsz.trim()) body.imgsz = Number(v.imgsz);
    for (const flag of ["half", "int8", "dynamic"] as const) if (v[flag] && options.includes(flag)) body[flag] = true;
    return body;
  };
  const create = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      api<{ export: ExportSummary }>(`/api/v1/jobs/${jobId}/exports`, { method: "POST", body }),
    onSuccess: ({ export: exp }) => {
      toast.success(
        exp.status === "SUCCEEDED"
          ? "Already exported: the file is in the list"
          : `Export to ${EXPORT_FORMAT_INFO[exp.format].label} queued`,
      );
      void queryClient.invalidateQueries({ queryKey: key });
    },
    onError: (err) => reportError(err, form.setError),
  });

  const exports = list.data?.exports ?? [];
  const canAsk = list.data?.canExport && jobSucceeded;
  if (!canAsk && !exports.length) return null;

  return (
    <div id="exports" className="scroll-mt-20">
      <Card>
        <h2 className="mb-3 font-semibold">Exports</h2>
        {canAsk &&
          (!hasWeights ? (
            <p className="mb-3 text-sm text-zinc-500">No best.pt in the object store to export.</p>
          ) : formats.length === 0 ? (
            <p className="mb-3 text-sm text-zinc-500">No online worker can export models right now.</p>
          ) : (
            <form
              className="mb-4 space-y-3"
              onSubmit={form.handleSubmit((v) => {
                // The same rules as the server's, checked here first; the server checks again.
                const body = toBody(v);
                const parsed = exportOptionsSchema.safeParse(body);
                if (parsed.success) return create.mutate(body);
                for (const issue of parsed.error.issues)
                  form.setError(String(issue.path[0] ?? "format") as keyof FormValues, { message: issue.message });
              })}
              noValidate
              aria-label="Export the model"
            >
              <Field id="export-format" label="Format" error={form.formState.errors.format?.message}>
                <Select
                  id="export-format"
                  aria-invalid={!!form.formState.errors.format}
                  {...form.register("format", { required: "Choose a format" })}
                >
                  <option value="">Choose…</option>
                  {formats.map((f) => (
                    <option key={f} value={f}>
                      {EXPORT_FORMAT_INFO[f].label}
                    </option>
                  ))}
                </Select>
              </Field>
              <Field
                id="export-imgsz"
                label="Image size (optional)"
                hint={trainImgsz ? `Empty: the training size, ${trainImgsz}` : "Empty: the training size"}
                error={form.formState.errors.imgsz?.message}
              >
                <Input
                  id="export-imgsz"
                  inputMode="numeric"
                  placeholder={trainImgsz ? String(trainImgsz) : undefined}
                  aria-invalid={!!form.formState.errors.imgsz}
                  {...form.register("imgsz")}
                />
              </Field>
              {options.some((o) => o === "half" || o === "int8" || o === "dynamic") && (
                <fieldset className="flex flex-wrap gap-4 text-sm">
                  <legend className="sr-only">Options</legend>
                  {options.includes("half") && (
                    <label className="flex items-center gap-1">
                      <input type="checkbox" {...form.register("half")} /> FP16
                      {format === "onnx" || format === "torchscript" ? " (on a GPU worker)" : ""}
                    </label>
                  )}
                  {options.includes("int8") && (
                    <label className="flex items-center gap-1">
                      <input type="checkbox" {...form.register("int8")} /> INT8
                    </label>
                  )}
                  {options.includes("dynamic") && (
                    <label className="flex items-center gap-1">
                      <input type="checkbox" {...form.register("dynamic")} /> Dynamic shapes
                    </label>
                  )}
                </fieldset>
              )}
              {(form.formState.errors.int8 || form.formState.errors.half || form.formState.errors.dynamic) && (
                <p className="text-xs text-red-600" role="alert">
                  {form.formState.errors.int8?.message ?? form.formState.errors.half?.message ?? form.formState.errors.dynamic?.message}
                </p>
              )}
              <Button type="submit" variant="secondary" busy={create.isPending}>
                Export
              </Button>
            </form>
          ))}
        {exports.length > 0 && (
          <ul className="space-y-2 text-sm" aria-label="Exports">
            {exports.map((e) => (
              <li key={e.id} className="flex items-start justify-between gap-2">
                <span>
                  <span className="font-medium">{EXPORT_FORMAT_INFO[e.format]?.label ?? e.format}</span>{" "}
                  <span className="text-xs text-zinc-500">{describe(e.options)}</span>
                  <span className="block text-xs text-zinc-500">
                    by {e.createdBy.name}
                    {e.artifact ? ` · ${formatBytes(e.artifact.size)}` : ""}
                    {e.status === "FAILED" && e.failureReason ? ` · ${e.failureReason}` : ""}
                  </span>
                </span>
                <span className="flex items-center gap-2">
                  <JobStatusBadge status={e.status} />
                  {e.artifact && TERMINAL_STATUSES.includes(e.status) && (
                    <a
                      href={`/api/v1/jobs/${jobId}/artifacts/${e.artifact.id}/download`}
                      className="rounded-md border border-zinc-300 px-2 py-1 text-xs font-medium hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-800"
                      aria-label={`Download the ${EXPORT_FORMAT_INFO[e.format]?.label ?? e.format} export`}
                    >
                      Download
                    </a>
                  )}
                </span>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}
