#!/usr/bin/env python3
"""Wyolo's Ultralytics exporter: converts one job's weights to another format (ONNX, TensorRT…).

The worker starts it with the weights file (WYOLO_WEIGHTS, a copy in the export's own directory,
where Ultralytics writes its output), the options (WYOLO_EXPORT, JSON: format, imgsz, batch,
half, int8, dynamic, opset), the model family (WYOLO_MODEL_TYPE: yolo or rtdetr), the device
(WYOLO_DEVICE) and the event channel (fd 3), and reads back protocol v1 events: `log`, then
`exported` with the output file (a directory output is zipped first) or `failed`.
`export.py --check` prints which formats this image can produce.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from train import Events, TrainerError, classify_failure, resolve_data, start_child

# What each format needs besides torch, after Ultralytics' own export table (8.3). A format
# whose modules are missing is not offered: Ultralytics would try to pip-install them, and
# workers have no network. Programs are looked up on PATH.
NEEDS: dict[str, dict[str, Any]] = {
    "torchscript": {"modules": []},
    "onnx": {"modules": ["onnx"]},
    "openvino": {"modules": ["openvino"]},
    "engine": {"modules": ["tensorrt", "onnx"], "cuda": True},
    "coreml": {"modules": ["coremltools"]},
    "saved_model": {"modules": ["tensorflow", "onnx2tf", "onnx"]},
    "pb": {"modules": ["tensorflow", "onnx2tf", "onnx"]},
    "tflite": {"modules": ["tensorflow", "onnx2tf", "onnx"]},
    "edgetpu": {"modules": ["tensorflow", "onnx2tf", "onnx"], "programs": ["edgetpu_compiler"]},
    "tfjs": {"modules": ["tensorflow", "onnx2tf", "onnx", "tensorflowjs"]},
    "paddle": {"modules": ["paddle", "x2paddle"]},
    "mnn": {"modules": ["MNN", "onnx"]},
    "ncnn": {"modules": ["ncnn"], "programs": ["pnnx"]},
}
OPTIONS = ("imgsz", "batch", "half", "int8", "dynamic", "opset")


def importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def supported_formats(cuda: bool) -> list[str]:
    out = []
    for fmt, need in NEEDS.items():
        if need.get("cuda") and not cuda:
            continue
        if all(importable(m) for m in need.get("modules", [])) and all(shutil.which(p) for p in need.get("programs", [])):
            out.append(fmt)
    return out


def check() -> int:
    """`export.py --check`: the formats this worker can export to. One JSON line on stdout."""
    report: dict[str, Any] = {"python": sys.version.split()[0]}
    try:
        import torch

        cuda = bool(torch.cuda.is_available())
        report["torch"] = torch.__version__
    except ImportError as exc:
        report.update(ok=False, formats=[], problem=f"{sys.executable} cannot import torch ({exc})")
        print(json.dumps(report))
        return 1
    if not importable("ultralytics"):
        report.update(ok=False, formats=[], problem=f"{sys.executable} cannot import ultralytics")
        print(json.dumps(report))
        return 1
    report.update(ok=True, formats=supported_formats(cuda))
    print(json.dumps(report))
    return 0


def zip_dir(directory: Path) -> Path:
    """A directory output (OpenVINO, SavedModel, NCNN…) as one downloadable file."""
    archive = shutil.make_archive(str(directory), "zip", root_dir=directory.parent, base_dir=directory.name)
    return Path(archive)


def export(weights: Path, options: dict, model_type: str, device: str, events: Events, ultralytics: Any) -> int:
    fmt = options.get("format")
    try:
        if fmt not in NEEDS:
            raise ValueError(f"unknown export format {fmt!r}")
        args: dict[str, Any] = {k: options[k] for k in OPTIONS if options.get(k) is not None}
        if options.get("int8"):
            # INT8 calibrates on the job's own dataset; Ultralytics would otherwise download coco8.
            if fmt == "openvino" and not importable("nncf"):
                raise TrainerError("INVALID_ARGUMENT", "INT8 OpenVINO export needs the nncf package, which this worker lacks", "Export without int8, or add nncf to the worker image")
            data = os.environ.get("WYOLO_DATA")
            if not data:
                raise TrainerError("INVALID_ARGUMENT", "INT8 export needs the job's dataset for calibration, and the job names none")
            args["data"] = resolve_data(data, os.environ.get("WYOLO_DATASETS_DIR"))
        if fmt in ("onnx", "engine"):
            # onnxslim is optional; without it Ultralytics would try to install it.
            args["simplify"] = importable("onnxslim")
        Model = ultralytics.RTDETR if model_type == "rtdetr" else ultralytics.YOLO
        model = Model(str(weights))
        events.emit("log", level="info", message=f"Exporting {weights.name} to {fmt} on {device} with {json.dumps(args, sort_keys=True)}")
        output = model.export(format=fmt, device=device, **args)
        if not output:
            raise RuntimeError(f"Ultralytics reported no output for format {fmt}")
        path = Path(str(output))
        if path.is_dir():
            path = zip_dir(path)
        if not path.is_file():
            raise RuntimeError(f"the export output {path} is missing")
        events.emit("exported", format=fmt, file=str(path.resolve()))
        return 0
    except BaseException as exc:  # noqa: BLE001 — every failure is reported on the channel
        error_class, suggestion = classify_failure(exc, options.get("batch"))
        if isinstance(exc, AssertionError) and error_class == "UNKNOWN":
            error_class = "INVALID_ARGUMENT"  # Ultralytics asserts on options a format does not take
        message = str(exc).strip().splitlines()[0][:2000] if str(exc).strip() else type(exc).__name__
        events.emit(
            "failed",
            errorClass=error_class,
            exceptionType=type(exc).__name__,
            message=message,
            traceback="".join(traceback.format_exception(exc))[-4000:],
            **({"suggestion": suggestion} if suggestion else {}),
        )
        return 130 if error_class == "INTERRUPTED" else 1


def main() -> int:
    if "--check" in sys.argv[1:]:
        os.environ.setdefault("YOLO_OFFLINE", "true")
        os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="wyolo-check-"))
        return check()
    weights = Path(os.environ["WYOLO_WEIGHTS"]).resolve()
    options = json.loads(os.environ["WYOLO_EXPORT"])
    run_dir = Path(os.environ.get("WYOLO_RUN_DIR", weights.parent)).resolve()
    events, ultralytics = start_child(run_dir)
    if ultralytics is None:
        return 1
    return export(weights, options, os.environ.get("WYOLO_MODEL_TYPE", "yolo"), os.environ.get("WYOLO_DEVICE", "cpu"), events, ultralytics)


if __name__ == "__main__":
    sys.exit(main())
