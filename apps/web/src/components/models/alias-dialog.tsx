"use client";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { useEffect } from "react";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import { z } from "zod";
import { aliasSchema, type ModelVersionView } from "@wyolo/contracts";
import { FormDialog } from "@/components/dialog";
import { Field, Input } from "@/components/ui";
import { api } from "@/lib/api";
import { reportError } from "@/lib/form-errors";

const formSchema = z.object({ alias: aliasSchema });
type FormValues = z.infer<typeof formSchema>;
const SUGGESTED = ["champion", "staging", "challenger"];

/** Points an alias at one version (ADMIN); an alias already set elsewhere moves here. */
export function AliasDialog({
  projectId,
  version,
  existing,
  onClose,
  onSet,
}: {
  projectId: string;
  version: ModelVersionView | null;
  existing: string[];
  onClose: () => void;
  onSet: () => void;
}) {
  const form = useForm<FormValues>({ resolver: zodResolver(formSchema), defaultValues: { alias: "champion" } });
  useEffect(() => {
    if (version) form.reset({ alias: version.aliases.includes("champion") ? "staging" : "champion" });
  }, [version, form]);
  const set = useMutation({
    mutationFn: ({ alias }: FormValues) =>
      api(`/api/v1/projects/${projectId}/models/aliases/${encodeURIComponent(alias)}`, {
        method: "PUT",
        body: { version: version!.version },
      }),
    onSuccess: (_d, { alias }) => {
      toast.success(`${alias} → v${version!.version}`);
      onClose();
      onSet();
    },
    onError: (err) => reportError(err, form.setError),
  });
  const alias = form.watch("alias");
  const moves = version && existing.includes(alias) && !version.aliases.includes(alias);
  return (
    <FormDialog
      open={version !== null}
      onClose={onClose}
      title={`Set an alias on v${version?.version ?? ""}`}
      submitLabel="Set alias"
      busy={set.isPending}
      onSubmit={form.handleSubmit((v) => set.mutate(v))}
    >
      <Field
        id="alias-name"
        label="Alias"
        error={form.formState.errors.alias?.message}
        hint={moves ? `${alias} moves here from the version it names now` : "Letters, digits, _ and -; e.g. champion or staging"}
      >
        <Input
          id="alias-name"
          list="alias-suggestions"
          autoComplete="off"
          aria-invalid={!!form.formState.errors.alias}
          aria-describedby={form.formState.errors.alias ? "alias-name-error" : undefined}
          {...form.register("alias")}
        />
        <datalist id="alias-suggestions">
          {[...new Set([...SUGGESTED, ...existing])].map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
      </Field>
    </FormDialog>
  );
}
