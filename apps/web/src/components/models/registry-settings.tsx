"use client";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import { z } from "zod";
import { modelNameSchema, type ModelsAnswer } from "@wyolo/contracts";
import { Button, Card, Field, Input } from "@/components/ui";
import { api } from "@/lib/api";
import { reportError } from "@/lib/form-errors";

const formSchema = z.object({
  registerModels: z.boolean(),
  modelName: z.union([z.literal(""), modelNameSchema]),
});
type FormValues = z.infer<typeof formSchema>;

/** The project's registry settings (ADMIN): register succeeded jobs or not, and the model's name. */
export function RegistrySettings({
  projectId,
  settings,
  onSaved,
}: {
  projectId: string;
  settings: ModelsAnswer["settings"];
  onSaved: () => void;
}) {
  const form = useForm<FormValues>({
    resolver: zodResolver(formSchema),
    values: { registerModels: settings.registerModels, modelName: settings.modelName ?? "" },
  });
  const save = useMutation({
    mutationFn: (v: FormValues) =>
      api(`/api/v1/projects/${projectId}`, { method: "PATCH", body: { registerModels: v.registerModels, modelName: v.modelName || null } }),
    onSuccess: () => {
      toast.success("Registry settings saved");
      onSaved();
    },
    onError: (err) => reportError(err, form.setError),
  });
  const nameError = form.formState.errors.modelName?.message;
  return (
    <Card>
      <h2 className="mb-3 font-semibold">Registry settings</h2>
      <form className="space-y-4" onSubmit={form.handleSubmit((v) => save.mutate(v))} noValidate aria-label="Registry settings">
        <label className="flex items-start gap-2 text-sm">
          <input type="checkbox" className="mt-0.5 size-4 accent-indigo-600" {...form.register("registerModels")} />
          <span>
            Register every succeeded job&apos;s best.pt as a new version
            <span className="block text-xs text-zinc-500">
              Sweep trials are never registered; train a sweep&apos;s best to register it.
            </span>
          </span>
        </label>
        <Field
          id="model-name"
          label="Model name"
          error={nameError}
          hint={`Empty: the default name. In MLflow too; renaming keeps the versions. Now: ${settings.effectiveName}`}
        >
          <Input
            id="model-name"
            placeholder={settings.effectiveName}
            autoComplete="off"
            aria-invalid={!!nameError}
            aria-describedby={nameError ? "model-name-error" : undefined}
            {...form.register("modelName")}
          />
        </Field>
        <Button type="submit" busy={save.isPending} disabled={!form.formState.isDirty}>
          Save settings
        </Button>
      </form>
    </Card>
  );
}
