import { describe, expect, it } from "vitest";
import { EXPORT_FORMAT_INFO, EXPORT_FORMATS, exportOptionsSchema, exportVariant } from "../src/exports.ts";

const issues = (input: unknown) => {
  const r = exportOptionsSchema.safeParse(input);
  return r.success ? {} : Object.fromEntries(r.error.issues.map((i) => [i.path.join(".") || "_", i.message]));
};

describe("export options", () => {
  it("accepts a format with the options it takes", () => {
    expect(exportOptionsSchema.parse({ format: "onnx", imgsz: 640, half: true, dynamic: true, opset: 17 })).toEqual({
      format: "onnx",
      imgsz: 640,
      half: true,
      dynamic: true,
      opset: 17,
    });
    expect(exportOptionsSchema.parse({ format: "engine", int8: true, batch: 8 })).toEqual({ format: "engine", int8: true, batch: 8 });
  });

  it("refuses options the format does not take, naming what it does take", () => {
    expect(issues({ format: "onnx", int8: true })).toEqual({
      int8: "Not supported for ONNX (it accepts imgsz, batch, half, dynamic, opset)",
    });
    expect(issues({ format: "edgetpu", half: true, batch: 2 })).toEqual({
      half: "Not supported for TensorFlow Edge TPU (it accepts imgsz)",
      batch: "Not supported for TensorFlow Edge TPU (it accepts imgsz)",
    });
    expect(issues({ format: "openvino", half: true, int8: true })).toEqual({ int8: "Choose half (FP16) or int8, not both" });
  });

  it("gives field messages for bad values, unknown formats and unknown keys", () => {
    expect(issues({ format: "onnx", imgsz: 100 })).toEqual({ imgsz: "A multiple of 32" });
    expect(issues({ format: "onnx", imgsz: 0 })).toEqual({ imgsz: "At least 32" });
    expect(issues({ format: "onnx", batch: 1.5 })).toEqual({ batch: "A whole number" });
    expect(issues({ format: "pytorch" }).format).toMatch(/^One of: torchscript, onnx, /);
    expect(Object.keys(issues({ format: "onnx", simplify: true }))).toEqual(["_"]);
  });

  it("names each variant after its format and options, the same for the same request", () => {
    expect(exportVariant({ format: "onnx" })).toBe("onnx");
    expect(exportVariant({ format: "onnx", imgsz: 640, half: true, dynamic: true, opset: 17 })).toBe("onnx-fp16-dynamic-640-opset17");
    expect(exportVariant({ format: "engine", int8: true, batch: 8 })).toBe("engine-int8-b8");
    expect(exportVariant({ format: "tflite", batch: 1 })).toBe("tflite");
  });

  it("describes every format", () => {
    for (const f of EXPORT_FORMATS) expect(EXPORT_FORMAT_INFO[f].options).toContain("imgsz");
    expect(EXPORT_FORMATS.filter((f) => EXPORT_FORMAT_INFO[f].gpu)).toEqual(["engine"]);
  });
});
