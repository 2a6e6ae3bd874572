"use client";
import { yaml } from "@codemirror/lang-yaml";
import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { basicSetup } from "codemirror";
import { useEffect, useRef } from "react";
import type { PlacedIssue } from "./yaml-issues";

// Tailwind classes, so the colours follow the light/dark theme like the rest of the page.
const highlight = HighlightStyle.define([
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], class: "text-sky-800 dark:text-sky-300" },
  { tag: [tags.string, tags.special(tags.string)], class: "text-emerald-700 dark:text-emerald-300" },
  { tag: [tags.number, tags.bool, tags.null], class: "text-amber-700 dark:text-amber-300" },
  { tag: tags.comment, class: "italic text-zinc-500" },
  { tag: [tags.punctuation, tags.separator, tags.squareBracket, tags.brace], class: "text-zinc-500" },
]);

const theme = EditorView.theme({
  "&": { fontSize: "12px", backgroundColor: "transparent", color: "inherit" },
  "&.cm-focused": { outline: "none" },
  ".cm-content": { fontFamily: "var(--font-geist-mono), ui-monospace, monospace", caretColor: "currentColor" },
  ".cm-gutters": { backgroundColor: "transparent", borderRight: "1px solid rgb(161 161 170 / 0.3)", color: "rgb(113 113 122)" },
  ".cm-activeLine, .cm-activeLineGutter": { backgroundColor: "rgb(99 102 241 / 0.08)" },
  ".cm-scroller": { minHeight: "16rem", maxHeight: "32rem", overflow: "auto" },
});

/**
 * The config's YAML in CodeMirror 6: highlighting, and the schema's issues underlined at their
 * line (with a gutter mark and the message on hover). The issues come from the caller, which
 * validates the text as it changes.
 */
export function YamlEditor({
  id,
  value,
  onChange,
  issues,
  describedBy,
}: {
  id: string;
  value: string;
  onChange: (text: string) => void;
  issues: PlacedIssue[];
  describedBy?: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const changed = useRef(onChange);
  useEffect(() => {
    changed.current = onChange;
  }, [onChange]);

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup,
          yaml(),
          syntaxHighlighting(highlight),
          lintGutter(),
          theme,
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({
            id,
            "aria-label": "Config (YAML)",
            "aria-multiline": "true",
            ...(describedBy ? { "aria-describedby": describedBy } : {}),
          }),
          EditorView.updateListener.of((u) => u.docChanged && changed.current(u.state.doc.toString())),
        ],
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // Built once; later values arrive through the effect below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
  }, [value]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const length = v.state.doc.length;
    v.dispatch(
      setDiagnostics(
        v.state,
        issues.map((i) => ({
          from: Math.min(i.from, length),
          to: Math.min(Math.max(i.to, i.from), length),
          severity: "error" as const,
          message: `${i.path}: ${i.message}`,
        })),
      ),
    );
  }, [issues, value]);

  return (
    <div
      ref={host}
      data-testid="yaml-editor"
      aria-invalid={issues.length > 0}
      className="mt-1 overflow-hidden rounded-md border border-zinc-300 bg-zinc-50 focus-within:border-indigo-500 focus-within:ring-2 focus-within:ring-indigo-500/30 aria-[invalid=true]:border-red-500 dark:border-zinc-700 dark:bg-zinc-950"
    />
  );
}
