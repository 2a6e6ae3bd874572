import type { ItemLabel } from "@wyolo/contracts";

/** Where an image of `w × h` lands when fitted whole into a `boxW × boxH` canvas (centred, aspect kept). */
export type Fit = { scale: number; dx: number; dy: number; width: number; height: number };

export function fitContain(w: number, h: number, boxW: number, boxH: number): Fit {
  if (w <= 0 || h <= 0 || boxW <= 0 || boxH <= 0) return { scale: 0, dx: 0, dy: 0, width: 0, height: 0 };
  const scale = Math.min(boxW / w, boxH / h);
  const width = w * scale;
  const height = h * scale;
  return { scale, dx: (boxW - width) / 2, dy: (boxH - height) / 2, width, height };
}

export type Point = { x: number; y: number };
/** A keypoint's visibility as in the label file: 0 not labelled, 1 labelled but occluded, 2 visible (absent: visible). */
export type Keypoint = Point & { v: 0 | 1 | 2 };

/** One thing to draw, in canvas pixels. */
export type Shape =
  | { kind: "box"; c: number; x: number; y: number; w: number; h: number }
  | { kind: "poly"; c: number; points: Point[] }
  | { kind: "kpts"; c: number; points: Keypoint[] };

/**
 * Values per keypoint in a flattened `kpts` array: Ultralytics' `kpt_shape[1]` when known, else
 * guessed — 3 when the length allows it and every third value is a visibility flag (0, 1 or 2);
 * coordinates are normalised floats, so they almost never all land on those integers.
 */
export function keypointDims(kpts: readonly number[], known?: number): 2 | 3 {
  if (known === 2 || known === 3) return known;
  if (kpts.length % 3 !== 0) return 2;
  if (kpts.length % 2 !== 0) return 3;
  for (let i = 2; i < kpts.length; i += 3) if (![0, 1, 2].includes(kpts[i]!)) return 2;
  return 3;
}

/** A label's normalised coordinates → shapes in the canvas frame of `fit`. Malformed parts (odd arity) are skipped. */
export function labelShapes(label: ItemLabel, fit: Fit, kptDims?: number): Shape[] {
  const px = (nx: number, ny: number): Point => ({ x: fit.dx + nx * fit.width, y: fit.dy + ny * fit.height });
  const shapes: Shape[] = [];
  if (label.box) {
    const [cx, cy, w, h] = label.box;
    const topLeft = px(cx - w / 2, cy - h / 2);
    shapes.push({ kind: "box", c: label.c, x: topLeft.x, y: topLeft.y, w: w * fit.width, h: h * fit.height });
  }
  if (label.poly && label.poly.length >= 6 && label.poly.length % 2 === 0) {
    const points: Point[] = [];
    for (let i = 0; i < label.poly.length; i += 2) points.push(px(label.poly[i]!, label.poly[i + 1]!));
    shapes.push({ kind: "poly", c: label.c, points });
  }
  if (label.kpts && label.kpts.length) {
    const dims = keypointDims(label.kpts, kptDims);
    if (label.kpts.length % dims === 0) {
      const points: Keypoint[] = [];
      for (let i = 0; i < label.kpts.length; i += dims) {
        const v = dims === 3 ? label.kpts[i + 2]! : 2;
        points.push({ ...px(label.kpts[i]!, label.kpts[i + 1]!), v: v === 0 || v === 1 ? v : 2 });
      }
      shapes.push({ kind: "kpts", c: label.c, points });
    }
  }
  return shapes;
}

/** A colour per class id, far apart for neighbouring ids (golden-angle hues), readable on light and dark images. */
export function classColour(id: number, alpha = 1): string {
  const hue = Math.round((((id * 137.508) % 360) + 360) % 360);
  return alpha === 1 ? `hsl(${hue} 85% 50%)` : `hsl(${hue} 85% 50% / ${alpha})`;
}

/** The class name for a label tag; an id past the names (an error the report lists) still shows as its number. */
export function className(names: readonly string[], id: number): string {
  return names[id] ?? `#${id}`;
}
