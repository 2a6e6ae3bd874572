import { describe, expect, it } from "vitest";
import { classColour, className, fitContain, keypointDims, labelShapes } from "./preview-geometry";

describe("fitContain", () => {
  it("a wide image fills the width and is centred vertically", () => {
    expect(fitContain(200, 100, 100, 100)).toEqual({ scale: 0.5, dx: 0, dy: 25, width: 100, height: 50 });
  });
  it("a tall image fills the height and is centred horizontally", () => {
    expect(fitContain(100, 400, 200, 200)).toEqual({ scale: 0.5, dx: 75, dy: 0, width: 50, height: 200 });
  });
  it("a small image is scaled up", () => expect(fitContain(32, 32, 128, 64).scale).toBe(2));
  it("zero sizes draw nothing", () => expect(fitContain(0, 10, 100, 100)).toEqual({ scale: 0, dx: 0, dy: 0, width: 0, height: 0 }));
});

const fit = fitContain(200, 100, 200, 200); // 200 × 100 at (0, 50)

describe("labelShapes", () => {
  it("a box: centre and size → top-left corner and size in canvas pixels", () => {
    expect(labelShapes({ c: 1, box: [0.5, 0.5, 0.5, 0.2] }, fit)).toEqual([{ kind: "box", c: 1, x: 50, y: 90, w: 100, h: 20 }]);
  });
  it("a polygon keeps its points in order", () => {
    expect(labelShapes({ c: 0, poly: [0, 0, 1, 0, 1, 1] }, fit)).toEqual([
      {
        kind: "poly",
        c: 0,
        points: [
          { x: 0, y: 50 },
          { x: 200, y: 50 },
          { x: 200, y: 150 },
        ],
      },
    ]);
  });
  it("an odd or too short polygon is not drawn (the report lists it)", () => {
    expect(labelShapes({ c: 0, poly: [0, 0, 1, 0, 1] }, fit)).toEqual([]);
    expect(labelShapes({ c: 0, poly: [0, 0, 1, 1] }, fit)).toEqual([]);
  });
  it("pose: a box and keypoints with visibility", () => {
    const shapes = labelShapes({ c: 0, box: [0.5, 0.5, 1, 1], kpts: [0.5, 0.5, 2, 0.25, 0.5, 1, 0, 0, 0] }, fit);
    expect(shapes.map((s) => s.kind)).toEqual(["box", "kpts"]);
    expect(shapes[1]).toEqual({
      kind: "kpts",
      c: 0,
      points: [
        { x: 100, y: 100, v: 2 },
        { x: 50, y: 100, v: 1 },
        { x: 0, y: 50, v: 0 },
      ],
    });
  });
  it("keypoints without visibility are visible", () => {
    const [shape] = labelShapes({ c: 2, kpts: [0.1, 0.2, 0.3, 0.4] }, fit, 2);
    expect(shape).toEqual({
      kind: "kpts",
      c: 2,
      points: [
        { x: 20, y: 70, v: 2 },
        { x: 60, y: 90, v: 2 },
      ],
    });
  });
  it("obb corners are a polygon", () => {
    const [shape] = labelShapes({ c: 0, poly: [0.1, 0.1, 0.9, 0.1, 0.9, 0.9, 0.1, 0.9] }, fit);
    expect(shape?.kind).toBe("poly");
    expect(shape?.kind === "poly" && shape.points.length).toBe(4);
  });
  it("a classification label draws nothing", () => expect(labelShapes({ c: 3 }, fit)).toEqual([]));
});

describe("keypointDims", () => {
  it("uses kpt_shape when known", () => expect(keypointDims([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 2)).toBe(2));
  it("three values when every third is a visibility flag", () => expect(keypointDims([0.1, 0.2, 2, 0.3, 0.4, 0])).toBe(3));
  it("two when a third value is a coordinate", () => expect(keypointDims([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])).toBe(2));
  it("by arity when only one fits", () => {
    expect(keypointDims([0.1, 0.2, 1])).toBe(3);
    expect(keypointDims([0.1, 0.2, 0.3, 0.4])).toBe(2);
  });
});

describe("classColour and className", () => {
  it("neighbouring classes get far-apart hues", () => {
    const hue = (s: string) => Number(/hsl\((\d+)/.exec(s)![1]);
    const d = Math.abs(hue(classColour(0)) - hue(classColour(1)));
    expect(Math.min(d, 360 - d)).toBeGreaterThan(90);
    expect(classColour(2, 0.25)).toMatch(/\/ 0\.25\)$/);
  });
  it("an id past the names shows as its number", () => {
    expect(className(["circle"], 0)).toBe("circle");
    expect(className(["circle"], 4)).toBe("#4");
  });
});
