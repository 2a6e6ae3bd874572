"use client";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import { createTeamSchema, type CreateTeamInput } from "@wyolo/contracts";
import { Button, Card, Field, Input } from "@/components/ui";
import { api } from "@/lib/api";
import { reportError } from "@/lib/form-errors";

export function NewTeamForm() {
  const router = useRouter();
  const form = useForm<CreateTeamInput>({ resolver: zodResolver(createTeamSchema), defaultValues: { name: "", slug: "" } });
  const create = useMutation({
    mutationFn: (values: CreateTeamInput) => api<{ team: { slug: string; name: string } }>("/api/v1/teams", { body: values }),
    onSuccess: ({ team }) => {
      toast.success(`Team ${team.name} created`);
      router.push(`/t/${team.slug}`);
      router.refresh();
    },
    onError: (err) => reportError(err, form.setError),
  });
  const { errors } = form.formState;
  return (
    <Card>
      <form onSubmit={form.handleSubmit((v) => create.mutate(v))} className="space-y-4" noValidate>
        <Field id="team-name" label="Team name" error={errors.name?.message}>
          <Input id="team-name" autoFocus aria-invalid={!!errors.name} {...form.register("name")} />
        </Field>
        <Field
          id="team-slug"
          label="Slug (optional)"
          error={errors.slug?.message}
          hint="Lower-case letters, digits and dashes; derived from the name when empty"
        >
          <Input id="team-slug" aria-invalid={!!errors.slug} {...form.register("slug")} />
        </Field>
        <Button type="submit" busy={create.isPending}>
          Create team
        </Button>
      </form>
    </Card>
  );
}
