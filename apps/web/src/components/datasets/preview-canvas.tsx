"use client";
import { useEffect, useRef, useState } from "react";
import type { ItemLabel } from "@wyolo/contracts";
import { classColour, className, fitContain, labelShapes, type Shape } from "./preview-geometry";

/** What the labels say, for screen readers and the image's title: "2 circle, 1 square". */
export function labelSummary(labels: ItemLabel[], names: readonly string[]): string {
  if (!labels.length) return "no labels";
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(className(names, l.c), (counts.get(className(names, l.c)) ?? 0) + 1);
  return [...counts].map(([name, n]) => `${n} ${name}`).join(", ");
}

function draw(ctx: CanvasRenderingContext2D, shapes: Shape[], names: readonly string[], lineWidth: number, showNames: boolean) {
  ctx.lineJoin = "round";
  ctx.lineWidth = lineWidth;
  ctx.font = `${Math.max(10, lineWidth * 5)}px ui-sans-serif, system-ui, sans-serif`;
  for (const s of shapes) {
    ctx.strokeStyle = classColour(s.c);
    ctx.fillStyle = classColour(s.c, 0.25);
    if (s.kind === "box") {
      ctx.strokeRect(s.x, s.y, s.w, s.h);
      if (showNames) {
        const text = className(names, s.c);
        const width = ctx.measureText(text).width + 6;
        const height = Math.max(12, lineWidth * 6);
        const y = s.y - height < 0 ? s.y : s.y - height;
        ctx.fillStyle = classColour(s.c);
        ctx.fillRect(s.x, y, width, height);
        ctx.fillStyle = "#fff";
        ctx.fillText(text, s.x + 3, y + height - 3);
      }
    } else if (s.kind === "poly") {
      ctx.beginPath();
      s.points.forEach((p, i) => (i ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
    } else {
      for (const p of s.points) {
        if (p.v === 0) continue;
        ctx.beginPath();
        ctx.arc(p.x, p.y, lineWidth * 1.8, 0, Math.PI * 2);
        ctx.fillStyle = classColour(s.c);
        if (p.v === 2) ctx.fill();
        else ctx.stroke(); // occluded: a ring
      }
    }
  }
}

/**
 * An image with its labels drawn on a canvas: boxes with class tags, filled polygons (masks, obb),
 * keypoints (rings when occluded). Sized by its container's width; the image keeps its aspect.
 */
export function PreviewCanvas({
  url,
  labels,
  names,
  width,
  height,
  path,
  large = false,
}: {
  url: string;
  labels: ItemLabel[];
  names: readonly string[];
  /** The image's own size (from validation): the canvas takes its aspect before the image loads. */
  width: number | null;
  height: number | null;
  path: string;
  large?: boolean;
}) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [failed, setFailed] = useState(false);
  const [drawn, setDrawn] = useState(0);
  const aspect = width && height ? width / height : 1;
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    let cancelled = false;
    let loaded: HTMLImageElement | null = null;
    // Painted at the canvas's CSS size × the screen's pixel ratio, again whenever its width changes.
    const paint = () => {
      const img = loaded;
      const ctx = canvas.getContext("2d");
      if (!img || !ctx || cancelled) return;
      const cssWidth = canvas.clientWidth || 240;
      const cssHeight = canvas.clientHeight || cssWidth / aspect;
      const dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(cssWidth * dpr);
      canvas.height = Math.round(cssHeight * dpr);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, cssWidth, cssHeight);
      const fit = fitContain(img.naturalWidth, img.naturalHeight, cssWidth, cssHeight);
      ctx.drawImage(img, fit.dx, fit.dy, fit.width, fit.height);
      const shapes = labels.flatMap((l) => labelShapes(l, fit));
      draw(ctx, shapes, names, large ? 2.5 : 1.5, large || cssWidth >= 200);
      setDrawn(shapes.length);
    };
    const img = new Image();
    img.decoding = "async";
    img.onload = () => {
      loaded = img;
      paint();
    };
    img.onerror = () => !cancelled && setFailed(true);
    img.src = url;
    let lastWidth = canvas.clientWidth;
    const resized = new ResizeObserver(() => {
      if (canvas.clientWidth === lastWidth) return;
      lastWidth = canvas.clientWidth;
      paint();
    });
    resized.observe(canvas);
    return () => {
      cancelled = true;
      resized.disconnect();
    };
  }, [url, labels, names, aspect, large]);
  const summary = labelSummary(labels, names);
  return failed ? (
    <div
      role="img"
      aria-label={`${path}: the image could not be loaded`}
      className="flex w-full items-center justify-center bg-zinc-100 text-xs text-zinc-500 dark:bg-zinc-800"
      style={{ aspectRatio: String(aspect) }}
    >
      image unavailable (links last a few minutes: reload)
    </div>
  ) : (
    <canvas
      ref={canvasRef}
      role="img"
      aria-label={`${path}: ${summary}`}
      title={summary}
      data-shapes={drawn}
      className="block w-full bg-zinc-100 dark:bg-zinc-800"
      style={{ aspectRatio: String(aspect) }}
    />
  );
}
