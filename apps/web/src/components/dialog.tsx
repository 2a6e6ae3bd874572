"use client";
import { clsx } from "clsx";
import { useEffect, useId, useRef, type FormEventHandler, type ReactNode } from "react";
import { Button } from "@/components/ui";

/**
 * A modal on the browser's own dialog element (focus trap, Escape closes), named by its title.
 * `open` drives showModal/close; every way of closing (Escape, a button) ends in `onClose`.
 */
export function Modal({
  open,
  onClose,
  title,
  size = "md",
  children,
}: {
  open: boolean;
  onClose: () => void;
  title: ReactNode;
  /** sm: a confirmation; md: a form. */
  size?: "sm" | "md";
  children?: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      onClose={onClose}
      aria-labelledby={titleId}
      className={clsx(
        "m-auto rounded-lg border border-zinc-200 bg-white p-5 text-zinc-900 shadow-xl backdrop:bg-black/40 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100",
        size === "sm" ? "w-[min(28rem,calc(100vw-2rem))]" : "w-[min(32rem,calc(100vw-2rem))]",
      )}
    >
      <h2 id={titleId} className="text-lg font-semibold">
        {title}
      </h2>
      {children}
    </dialog>
  );
}

/** The buttons row at the foot of a dialog: Cancel (closes) and then the dialog's own action. */
function DialogActions({
  cancelLabel,
  onCancel,
  children,
  className,
}: {
  cancelLabel: string;
  onCancel: () => void;
  children: ReactNode;
  className?: string;
}) {
  return (
    <div className={clsx("flex justify-end gap-2", className)}>
      <Button type="button" variant="secondary" onClick={onCancel}>
        {cancelLabel}
      </Button>
      {children}
    </div>
  );
}

/** A modal form: the fields, then Cancel and a submit button. The form is mounted only while the dialog is open. */
export function FormDialog({
  open,
  onClose,
  title,
  onSubmit,
  submitLabel,
  busy,
  children,
}: {
  open: boolean;
  onClose: () => void;
  title: ReactNode;
  onSubmit: FormEventHandler<HTMLFormElement>;
  submitLabel: string;
  busy?: boolean;
  children: ReactNode;
}) {
  return (
    <Modal open={open} onClose={onClose} title={title}>
      {open && (
        <form onSubmit={onSubmit} className="mt-4 space-y-4" noValidate>
          {children}
          <DialogActions cancelLabel="Cancel" onCancel={onClose} className="pt-2">
            <Button type="submit" busy={busy}>
              {submitLabel}
            </Button>
          </DialogActions>
        </form>
      )}
    </Modal>
  );
}

/** A modal confirmation of a destructive step (not the browser's confirm). */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  cancelLabel = "Keep it",
  busy,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  cancelLabel?: string;
  busy?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  return (
    <Modal open={open} onClose={onClose} title={title} size="sm">
      {children && <div className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">{children}</div>}
      <DialogActions cancelLabel={cancelLabel} onCancel={onClose} className="mt-5">
        <Button variant="danger" busy={busy} onClick={onConfirm}>
          {confirmLabel}
        </Button>
      </DialogActions>
    </Modal>
  );
}
