"use client";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { signIn } from "next-auth/react";
import { useRouter } from "next/navigation";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import type { z } from "zod";
import { changePasswordSchema } from "@wyolo/contracts";
import { Button, Field, Input } from "@/components/ui";
import { api } from "@/lib/api";
import { reportError } from "@/lib/form-errors";

type Values = z.infer<typeof changePasswordSchema>;

export function ChangePasswordForm({ email }: { email: string }) {
  const router = useRouter();
  const form = useForm<Values>({ resolver: zodResolver(changePasswordSchema), defaultValues: { currentPassword: "", newPassword: "" } });
  const change = useMutation({
    mutationFn: (values: Values) => api("/api/v1/account/password", { body: values }),
    // The change ends every session, this one too: sign in again with the new password.
    onSuccess: async (_data, values) => {
      await signIn("credentials", { email, password: values.newPassword, redirect: false });
      form.reset();
      toast.success("Password changed; your other sessions were signed out");
      router.refresh();
    },
    onError: (err) => reportError(err, form.setError),
  });
  const { errors } = form.formState;
  return (
    <form onSubmit={form.handleSubmit((v) => change.mutate(v))} className="space-y-4" noValidate>
      <Field id="current-password" label="Current password" error={errors.currentPassword?.message}>
        <Input
          id="current-password"
          type="password"
          autoComplete="current-password"
          aria-invalid={!!errors.currentPassword}
          {...form.register("currentPassword")}
        />
      </Field>
      <Field id="new-password" label="New password" error={errors.newPassword?.message} hint="At least 10 characters">
        <Input
          id="new-password"
          type="password"
          autoComplete="new-password"
          aria-invalid={!!errors.newPassword}
          {...form.register("newPassword")}
        />
      </Field>
      <Button type="submit" busy={change.isPending}>
        Change password
      </Button>
    </form>
  );
}
