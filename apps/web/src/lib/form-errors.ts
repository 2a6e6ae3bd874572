"use client";
import type { FieldValues, Path, UseFormSetError } from "react-hook-form";
import { toast } from "sonner";
import { ApiRequestError } from "./api";

/** Shows the server's message in a toast and puts its field messages under the matching inputs. */
export function reportError<T extends FieldValues>(err: unknown, setError?: UseFormSetError<T>) {
  if (err instanceof ApiRequestError) {
    toast.error(err.message);
    if (setError) for (const [field, messages] of Object.entries(err.fields)) setError(field as Path<T>, { message: messages.join(", ") });
    return;
  }
  toast.error("Could not reach the server. Check your connection and try again.");
}
