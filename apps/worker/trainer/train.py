#!/usr/bin/env python3
"""Wyolo's Ultralytics trainer: runs one training job and reports it with trainer protocol v1.

The worker starts it with the job's resolved config (WYOLO_CONFIG), its own run directory
(WYOLO_RUN_DIR), a stop file to watch (WYOLO_STOP_FILE) and an event channel (fd 3). See
docs/trainer-protocol.md. Works with Ultralytics 8.3 and 8.4.
"""
from __future__ import annotations

import csv
import json
import logging
import math
import os
import re
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

PROTOCOL_VERSION = 1
# A copy of last.pt taken at the epoch boundary of a stop for a worker shutdown: Ultralytics'
# final evaluation strips last.pt right after (no optimizer, epoch -1), which cannot be resumed.
RESUMABLE_NAME = "last.resumable.pt"
# What the run ended with (finished's reason), so a resume of a stripped checkpoint can tell an
# early stop or a time limit from a run that was cut short.
FINISHED_MARK = "wyolo-finished.json"
# `pruned`: a sweep's pruner stopped the trial; the job ended there, and a resume must not train on.
TERMINAL_REASONS = ("completed", "early_stopped", "time_limit", "pruned")
INTEGRATIONS_OFF = ("sync", "hub", "mlflow", "clearml", "comet", "dvc", "neptune", "raytune", "tensorboard", "wandb")


# ── event channel ────────────────────────────────────────────────────────────────────────────
class Events:
    """Writes one JSON object per line to the event file descriptor (stderr when run by hand)."""

    def __init__(self, fd: int | None):
        self._lock = threading.Lock()
        self._out = os.fdopen(fd, "w", buffering=1, encoding="utf-8") if fd is not None else sys.stderr

    def emit(self, type_: str, **fields: Any) -> None:
        event = {"v": PROTOCOL_VERSION, "type": type_, "time": round(time.time(), 3), **fields}
        line = json.dumps(event, default=_jsonable, allow_nan=False)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy / torch scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def number(value: Any) -> float | None:
    """A finite float, or None (JSON has no NaN)."""
    try:
        f = float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def numbers(mapping: dict | None, keep: Callable[[str], bool] = lambda k: True) -> dict[str, float | None]:
    return {str(k): number(v) for k, v in (mapping or {}).items() if keep(str(k))}


# ── failures ─────────────────────────────────────────────────────────────────────────────────
class TrainerError(Exception):
    """A failure Wyolo detects itself, with its protocol class."""

    def __init__(self, error_class: str, message: str, suggestion: str | None = None):
        super().__init__(message)
        self.error_class = error_class
        self.suggestion = suggestion


# What each task trains from, for DATASET_* suggestions.
DETECT_LAYOUT = (
    "a data.yaml naming train/val image folders (or .txt lists), each image with a YOLO label file in the matching "
    "labels/ folder (images/train/a.jpg → labels/train/a.txt)"
)
CLASSIFY_LAYOUT = "a folder with train/ and val/, one subfolder of images per class (train/cat/1.jpg, val/cat/2.jpg)"


def dataset_layout(task: str | None) -> str:
    """The layout a task trains from, in words."""
    if task == "classify":
        return f"A classify model trains from {CLASSIFY_LAYOUT}; give that folder as `data`"
    kind = {"segment": "polygon", "pose": "keypoint", "obb": "oriented box"}.get(task or "", "box")
    return f"A {task or 'detect'} model trains from {DETECT_LAYOUT} ({kind} labels)"


# Ultralytics wraps every dataset check in RuntimeError("Dataset '…' error ❌ …") (BaseTrainer.get_dataset).
ULTRALYTICS_DATASET_ERROR = re.compile(r"dataset .* error", re.IGNORECASE)
NOT_FOUND_WORDS = ("not found", "does not exist", "missing path", "no such file", "download failure", "not online")


def classify_failure(exc: BaseException, batch: Any = None, task: str | None = None) -> tuple[str, str | None]:
    """Maps an exception to a protocol failure class and, where one helps, a suggestion."""
    if isinstance(exc, TrainerError):
        return exc.error_class, exc.suggestion
    if isinstance(exc, KeyboardInterrupt):
        return "INTERRUPTED", None
    text = f"{type(exc).__name__}: {exc}".lower()
    if "out of memory" in text or type(exc).__name__ == "OutOfMemoryError":
        smaller = None
        if isinstance(batch, (int, float)) and batch >= 2:
            smaller = f"Retry with batch {max(1, int(batch) // 2)}, or batch -1 (auto) to size it to the GPU"
        return "OUT_OF_MEMORY", smaller or "Retry with a smaller batch, or batch -1 (auto)"
    if ULTRALYTICS_DATASET_ERROR.search(str(exc)) or "no training images" in text or "no images found" in text or "no labels found" in text:
        missing = any(word in text for word in NOT_FOUND_WORDS)
        return ("DATASET_NOT_FOUND" if missing else "DATASET_INVALID"), dataset_layout(task)
    if ("dataset" in text and ("not found" in text or "does not exist" in text or "missing" in text)) or (
        isinstance(exc, FileNotFoundError) and "data" in text
    ):
        return "DATASET_NOT_FOUND", f"Check the dataset path as the worker sees it (relative to DATASETS_DIR). {dataset_layout(task)}"
    if isinstance(exc, (SyntaxError, TypeError, ValueError, KeyError)) or "not a valid yolo argument" in text or "invalid" in text:
        return "INVALID_ARGUMENT", None
    return "UNKNOWN", None


# ── environment ──────────────────────────────────────────────────────────────────────────────
def isolate(run_dir: Path) -> Path:
    """A config dir of the job's own (settings, fonts) and no network at run time."""
    config_dir = run_dir / ".ultralytics"
    (config_dir / "Ultralytics").mkdir(parents=True, exist_ok=True)
    os.environ["YOLO_CONFIG_DIR"] = str(config_dir)
    os.environ["YOLO_OFFLINE"] = "true"
    os.environ["YOLO_AUTOINSTALL"] = "false"
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        for target in (config_dir / name, config_dir / "Ultralytics" / name):
            if not target.exists() and (font := find_font()):
                shutil.copyfile(font, target)
    return config_dir


def find_font() -> Path | None:
    """Any TrueType font will do for plots: the one the worker names, or matplotlib's own."""
    if os.environ.get("WYOLO_FONT_FILE") and Path(os.environ["WYOLO_FONT_FILE"]).is_file():
        return Path(os.environ["WYOLO_FONT_FILE"])
    try:
        import matplotlib

        font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
        return font if font.is_file() else None
    except ImportError:
        return None


def integrations_off(settings: Any) -> None:
    """Every Ultralytics integration off, its own MLflow callback included (the worker logs to MLflow)."""
    settings.update({key: False for key in INTEGRATIONS_OFF if key in settings})


# ── paths: the last line of defence ─────────────────────────────────────────────────────────────
# The web app and the worker check these too; here every path is resolved with realpath right
# before Ultralytics opens it, so a symlink planted after the worker's check is caught as well.
JOB_REF = re.compile(r"^job:([A-Za-z0-9_-]{1,64})/(best|last)\.pt$")


def is_confined_relative(value: str) -> bool:
    """A relative path with no `..` or empty segment, no backslash or control character."""
    if not value or value.startswith("/") or re.search(r"[\\\x00-\x1f]", value):
        return False
    return all(segment not in ("", "..") for segment in value.split("/"))


def confined(root: str | None, rel: str, what: str, root_name: str) -> Path:
    """`rel` under `root` with every symlink followed, or PATH_NOT_ALLOWED."""
    if not root:
        raise TrainerError("PATH_NOT_ALLOWED", f"{what} '{rel}' cannot be resolved: this worker has no {root_name} configured")
    if not is_confined_relative(rel):
        raise TrainerError("PATH_NOT_ALLOWED", f"{what} '{rel}' must be a path relative to {root_name}, without '..'")
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, rel))
    if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
        raise TrainerError("PATH_NOT_ALLOWED", f"{what} '{rel}' leads outside {root_name} once symlinks are followed; refused")
    return Path(real)


def resolve_model(model: str, weights_dir: str | None, inputs_dir: str | None = None, what: str = "Model") -> str:
    """A job reference is the file the worker fetched into the run's inputs; a .yaml builds from
    scratch (from WEIGHTS_DIR when it is there, else Ultralytics' own); weights come from WEIGHTS_DIR."""
    ref = JOB_REF.match(model)
    if ref:
        path = confined(inputs_dir, f"{ref.group(1)}-{ref.group(2)}.pt", what, "the run's inputs folder")
        if not path.is_file():
            raise TrainerError("INVALID_ARGUMENT", f"{what} '{model}' was not fetched by the worker")
        return str(path)
    if not is_confined_relative(model):
        raise TrainerError("PATH_NOT_ALLOWED", f"{what} '{model}' must be a name in WEIGHTS_DIR (no absolute path or '..') or job:<id>/best.pt")
    if model.endswith((".yaml", ".yml")):
        if weights_dir and os.path.lexists(os.path.join(weights_dir, model)):
            return str(confined(weights_dir, model, what, "WEIGHTS_DIR"))
        if "/" in model:
            raise TrainerError("INVALID_ARGUMENT", f"Architecture '{model}' is not in WEIGHTS_DIR ({weights_dir or 'not configured'})")
        return model  # one of Ultralytics' own architectures
    if weights_dir and os.path.lexists(os.path.join(weights_dir, model)):
        path = confined(weights_dir, model, what, "WEIGHTS_DIR")
        if path.is_file():
            return str(path)
    where = f"WEIGHTS_DIR ({weights_dir})" if weights_dir else "no WEIGHTS_DIR is configured on this worker"
    stem = Path(model).stem
    raise TrainerError(
        "INVALID_ARGUMENT",
        f"Weights '{model}' are not available offline: {where}. Put the file there, or train from an architecture such as {stem}.yaml",
    )


def prepare_resume(last: Path, save_dir: Path) -> bool:
    """Readies a checkpoint for Ultralytics' resume; True when it came from another host.

    A checkpoint written on another host (restored from the object store) names that host's run
    directory, where the resume would write: it is pointed at this one. results.csv may be ahead
    of the checkpoint (it is written, and uploaded, before the weights of the same epoch): rows
    after the checkpoint's epoch are dropped, since the resume trains those epochs again."""
    import torch

    ckpt = torch.load(str(last), map_location="cpu", weights_only=False)
    if not isinstance(ckpt, dict):
        return False
    epoch = ckpt.get("epoch")
    if isinstance(epoch, int) and epoch >= 0:
        trim_results(save_dir / "results.csv", epoch + 1)  # ckpt epochs count from 0, results.csv from 1
    args = ckpt.get("train_args")
    # A stripped checkpoint keeps only Ultralytics' own keys (no save_dir): project/name say where.
    if not isinstance(args, dict) or (args.get("save_dir") or str(Path(str(args.get("project", ""))) / str(args.get("name", "")))) == str(save_dir):
        return False
    args.update(save_dir=str(save_dir), project=str(save_dir.parent), name=save_dir.name)
    torch.save(ckpt, str(last))
    return True


def trim_results(results_csv: Path, last_epoch: int) -> None:
    if not results_csv.is_file():
        return
    lines = results_csv.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = lines[:1] + [line for line in lines[1:] if (number(line.split(",", 1)[0]) or 0) <= last_epoch]
    if len(kept) != len(lines):
        results_csv.write_text("".join(kept), encoding="utf-8")


def read_results(results_csv: Path) -> list[dict[str, str]]:
    """results.csv rows (Ultralytics pads its header names with spaces), in epoch order."""
    if not results_csv.is_file():
        return []
    with results_csv.open(newline="", encoding="utf-8") as f:
        rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(f)]
    return [row for row in rows if (number(row.get("epoch")) or 0) >= 1]


def epoch_durations(rows: list[dict[str, str]]) -> dict[int, float | None]:
    """Per-epoch seconds from results.csv's `time` column, which is cumulative. Ultralytics restarts
    its clock on every resume (train.py shifts it back so the column stays cumulative across
    attempts); a drop in the column is such a restart, where the epoch's own time is the value."""
    durations: dict[int, float | None] = {}
    previous = 0.0
    for row in rows:
        epoch, elapsed = int(float(row["epoch"])), number(row.get("time"))
        if elapsed is None:
            durations[epoch] = None
            continue
        durations[epoch] = round(elapsed - previous if elapsed >= previous else elapsed, 3)
        previous = elapsed
    return durations


def use_resumable_copy(weights: Path, events: "Events") -> None:
    """Puts the copy kept at a shutdown back as last.pt (consumed: the resumed run writes its own),
    unless last.pt is a newer unstripped checkpoint."""
    import torch

    copy, last = weights / RESUMABLE_NAME, weights / "last.pt"
    if not copy.is_file():
        return
    if last.is_file():
        try:
            current = torch.load(str(last), map_location="cpu", weights_only=False).get("epoch", -1)
            kept = torch.load(str(copy), map_location="cpu", weights_only=False).get("epoch", -1)
            if isinstance(current, int) and isinstance(kept, int) and current > kept:
                copy.unlink()
                return
        except Exception:  # noqa: BLE001 — an unreadable last.pt is what the copy is there for
            pass
    copy.replace(last)
    events.emit("log", level="info", message="Resuming from the checkpoint kept when the last worker shut down")


def finished_mark(save_dir: Path) -> str | None:
    try:
        return json.loads((save_dir / FINISHED_MARK).read_text(encoding="utf-8")).get("reason")
    except (OSError, ValueError, AttributeError):
        return None


def plan_stripped_resume(last: Path, save_dir: Path, config: dict) -> tuple[str, int]:
    """What a resume does with a checkpoint Ultralytics stripped (epoch -1, "nothing to resume").

    Ultralytics strips last.pt after every run that reached its end, a stop included, so a stripped
    checkpoint only says the trainer ended, not that it trained what was asked. Returns
    ("resume", _) for a checkpoint that still resumes, ("finished", _) with the reason in the mark,
    ("continue", epochs done) or ("fresh", 0) when results.csv has no epoch."""
    import torch

    ckpt = torch.load(str(last), map_location="cpu", weights_only=False)
    epoch = ckpt.get("epoch") if isinstance(ckpt, dict) else None
    if isinstance(epoch, int) and epoch >= 0:
        return "resume", epoch + 1
    if finished_mark(save_dir) in TERMINAL_REASONS:
        return "finished", 0
    done = max((int(float(r["epoch"])) for r in read_results(save_dir / "results.csv")), default=0)
    if config["train"].get("time"):
        # With a time limit Ultralytics recomputes `epochs` from the budget: the count proves nothing.
        return "finished", done
    if done >= int(config["train"]["epochs"]):
        return "finished", done
    return ("continue", done) if done else ("fresh", 0)


def continue_stripped(last: Path, save_dir: Path, config: dict, done: int) -> None:
    """Makes a stripped checkpoint resume at epoch done+1 of the requested epochs.

    Sound with Ultralytics' semantics (8.3 BaseTrainer.resume_training): the stripped model is the
    EMA of the last epoch, loaded as float; with no optimizer state the optimizer and EMA start
    afresh and best_fitness from 0 (so the next epoch's best.pt may replace an earlier better one);
    the LR schedule, close_mosaic and results.csv (appended, same save_dir) continue at the right
    epoch. Starting over with `epochs = remaining` instead would restart the schedule with warmup
    and number its epochs from 1, overwriting results.csv."""
    import torch

    ckpt = torch.load(str(last), map_location="cpu", weights_only=False)
    args = dict(ckpt.get("train_args") or {})
    args.update(epochs=int(config["train"]["epochs"]), project=str(save_dir.parent), name=save_dir.name, exist_ok=True)
    args.pop("resume", None)
    ckpt.update(epoch=done - 1, train_args=args)  # ckpt epochs count from 0
    torch.save(ckpt, str(last))
    trim_results(save_dir / "results.csv", done)


IMAGE_SUFFIXES = {".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp", ".pfm", ".heic"}
DATA_YAML_NAMES = ("data.yaml", "data.yml", "dataset.yaml", "dataset.yml")


def has_images(folder: Path, limit: int = 2000) -> bool:
    """Whether a folder holds an image within its first `limit` entries (any depth)."""
    for i, f in enumerate(folder.rglob("*")):
        if f.suffix.lower() in IMAGE_SUFFIXES:
            return True
        if i >= limit:
            return False
    return False


def is_classify_root(folder: Path) -> bool:
    """train/ with at least one class folder of images (a detection split's images/ and labels/ are not classes)."""
    train = folder / "train"
    if not train.is_dir():
        return False
    classes = [d for d in train.iterdir() if d.is_dir()]
    if not classes or {d.name for d in classes} <= {"images", "labels"}:
        return False
    return any(has_images(d, 200) for d in classes)


def data_yaml_in(folder: Path) -> Path | None:
    """The folder's data.yaml (or its only .yaml), None when there is none or several."""
    for name in DATA_YAML_NAMES:
        if (folder / name).is_file():
            return folder / name
    yamls = [f for f in folder.iterdir() if f.suffix in (".yaml", ".yml") and f.is_file()]
    return yamls[0] if len(yamls) == 1 else None


def inspect_dataset(path: Path, data: str, task: str | None, events: "Events | None" = None) -> str:
    """What Ultralytics gets for `data`: a folder is looked into for its data.yaml (detect, segment,
    pose, obb) or taken as a classify root; a layout the task cannot train from fails DATASET_INVALID
    here, before Ultralytics turns it into "Is a directory" or an attempted download."""
    if task == "classify":
        if path.is_dir() and is_classify_root(path):
            return str(path)
        if path.is_file() or (path.is_dir() and (data_yaml_in(path) or (path / "labels").is_dir())):
            raise TrainerError("DATASET_INVALID", f"Dataset '{data}' is a detection-style dataset (a data.yaml with images and labels), not classification folders", dataset_layout(task))
        raise TrainerError("DATASET_INVALID", f"Dataset '{data}' has no train/ folder with a subfolder of images per class", dataset_layout(task))
    if path.is_file():
        return str(path)
    found = data_yaml_in(path)
    if found:
        if events:
            events.emit("log", level="info", message=f"Dataset '{data}' is a folder: training from its {found.name}")
        return str(found)
    if is_classify_root(path):
        raise TrainerError(
            "DATASET_INVALID",
            f"Dataset '{data}' is a classification folder (train/<class>/…), but this is a {task or 'detect'} job",
            f"{dataset_layout(task)}; or train a classify model (e.g. yolo11n-cls.yaml) on this folder",
        )
    raise TrainerError("DATASET_INVALID", f"Dataset '{data}' is a folder without a data.yaml", dataset_layout(task))


def resolve_data(data: str, datasets_dir: str | None, task: str | None = None, events: "Events | None" = None) -> str:
    """The dataset, relative to DATASETS_DIR and inside it once symlinks are followed; a folder is
    looked into (inspect_dataset)."""
    path = confined(datasets_dir, data, "Dataset", "DATASETS_DIR")
    if not path.exists():
        raise TrainerError(
            "DATASET_NOT_FOUND",
            f"Dataset '{data}' not found in DATASETS_DIR ({datasets_dir})",
            f"Check the path as the worker sees it. {dataset_layout(task)}",
        )
    return inspect_dataset(path, data, task, events)


DATASET_VERSION_PREFIX = "dataset:"


def resolve_dataset_version(data: str, task: str | None = None, events: "Events | None" = None) -> str:
    """`dataset:<name>@vN`: the worker fetched the version into its dataset cache and names what to
    train from (WYOLO_DATA: the entry's data.yaml, or a classify folder); it must stay inside the
    cache (WYOLO_DATASET_CACHE_DIR) once symlinks are followed. DATASETS_DIR plays no part."""
    fetched, cache = os.environ.get("WYOLO_DATA"), os.environ.get("WYOLO_DATASET_CACHE_DIR")
    if not fetched or not cache:
        raise TrainerError(
            "DATASET_NOT_FOUND",
            f"Dataset '{data}' was not fetched by the worker",
            "Dataset versions are fetched by the Wyolo worker into its dataset cache before the trainer starts",
        )
    rel = os.path.relpath(os.path.abspath(fetched), os.path.abspath(cache)).replace(os.sep, "/")
    path = confined(cache, rel, "Dataset", "the dataset cache")
    if not path.exists():
        raise TrainerError("DATASET_NOT_FOUND", f"Dataset '{data}' is not in the dataset cache ({fetched})")
    return inspect_dataset(path, data, task, events)


def resolve_training_data(data: str, task: str | None = None, events: "Events | None" = None) -> str:
    """What Ultralytics trains from: a dataset version from the worker's cache, or a path in DATASETS_DIR."""
    if data.startswith(DATASET_VERSION_PREFIX):
        return resolve_dataset_version(data, task, events)
    return resolve_data(data, os.environ.get("WYOLO_DATASETS_DIR"), task, events)


def retarget_checkpoint_data(last: Path, data: str) -> None:
    """A resume trains from the checkpoint's own `data` when that path exists: a dataset version's
    path is this worker's cache entry, which on another host (or another DATASET_CACHE_DIR) differs."""
    import torch

    ckpt = torch.load(str(last), map_location="cpu", weights_only=False)
    args = ckpt.get("train_args") if isinstance(ckpt, dict) else None
    if isinstance(args, dict) and args.get("data") != data:
        args["data"] = data
        torch.save(ckpt, str(last))


# RT-DETR's decoder takes 300 queries (top-k) from (s/8)² + (s/16)² + (s/32)² anchors; multi_scale halves s.
# The schema refuses such configs (training-config.ts rtdetrMinImgsz); this catches stored older ones.
RTDETR_QUERIES = 300


def rtdetr_min_imgsz(multi_scale: bool) -> int:
    s = 32
    while sum(((s / 2 if multi_scale else s) / stride) ** 2 for stride in (8, 16, 32)) < RTDETR_QUERIES:
        s += 32
    return s


def check_rtdetr_imgsz(config: dict) -> None:
    train = config["train"]
    if config.get("type") != "rtdetr" and not Path(str(config.get("model", ""))).name.lower().startswith("rtdetr"):
        return
    least = rtdetr_min_imgsz(bool(train.get("multi_scale")))
    if int(train.get("imgsz", 640)) < least:
        raise TrainerError(
            "INVALID_ARGUMENT",
            f"RT-DETR needs imgsz ≥ {least}: its decoder picks {RTDETR_QUERIES} queries among the image's anchors, and a smaller image has fewer",
            f"Set imgsz to {least} or more",
        )


# ── AutoBatch ───────────────────────────────────────────────────────────────────────────────
# Ultralytics 8.3 computes a batch for a share of the GPU's memory, but outside 1–1024 (3146 for a
# YOLOv8n at 256 px on an H200) it silently trains at 16. Wyolo measures with the same profiler and
# clamps to a ceiling (AUTO_BATCH_MAX, and never more than the training images) instead.
DEFAULT_AUTO_BATCH_MAX = 512
ULTRALYTICS_DEFAULT_BATCH = 16


def decide_auto_batch(
    computed: int | None,
    ceiling: int,
    images: int | None = None,
    first_failed: int | None = None,
    largest_profiled: int | None = None,
) -> tuple[int, str]:
    """The batch for Ultralytics' estimate `computed` (None: no estimate), and why (AUTO_BATCH_REASONS).
    `first_failed`: the smallest profiled size that ran out of memory, `largest_profiled` the size before it."""
    if computed is None:
        return ULTRALYTICS_DEFAULT_BATCH, "error"
    limits = [(ceiling, "ceiling")]
    if images:
        limits.append((images, "images"))
    if first_failed is not None and largest_profiled is not None and computed >= first_failed:
        limits.append((largest_profiled, "profiled"))
    batch, reason = computed, "fits"
    for limit, why in sorted(limits):
        if batch > limit:
            batch, reason = limit, why
    if batch < 1:
        return 1, "floor"
    return batch, reason


def count_images(train: Any, fraction: float = 1.0) -> int | None:
    """Training images of a resolved dataset (`trainer.data["train"]`: folders, .txt lists or a list of them)."""
    total = 0
    for item in train if isinstance(train, (list, tuple)) else [train]:
        path = Path(str(item))
        if path.is_dir():
            total += sum(1 for f in path.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
        elif path.suffix == ".txt" and path.is_file():
            total += sum(1 for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip())
        else:
            return None
    return max(1, int(total * fraction)) if total else None


def measure_auto_batch(model: Any, imgsz: int, fraction: float, max_num_obj: int = 1) -> dict:
    """Ultralytics 8.3's AutoBatch measurement (utils/autobatch.py) without its fallback to 16: the
    memory profile of a few batch sizes, a linear fit, and the batch that fills `fraction` of the GPU."""
    import numpy as np
    import torch
    from ultralytics.utils import torch_utils

    # 8.3.1xx renamed `profile` to `profile_ops` and added max_num_obj (the detection loss's memory).
    profile_ops = getattr(torch_utils, "profile_ops", None) or torch_utils.profile

    device = next(model.parameters()).device
    gb = 1 << 30
    props = torch.cuda.get_device_properties(device)
    t = props.total_memory / gb
    r = torch.cuda.memory_reserved(device) / gb
    a = torch.cuda.memory_allocated(device) / gb
    f = t - (r + a)
    sizes = [1, 2, 4, 8, 16] if t < 16 else [1, 2, 4, 8, 16, 32, 64]
    out: dict = {"totalGb": t, "name": props.name}
    try:
        img = [torch.empty(b, 3, imgsz, imgsz) for b in sizes]
        try:
            results = profile_ops(img, model, n=1, device=device, max_num_obj=max_num_obj)
        except TypeError:
            results = profile_ops(img, model, n=1, device=device)
        xy = [
            [x, y[2]]
            for i, (x, y) in enumerate(zip(sizes, results))
            if y and isinstance(y[2], (int, float)) and 0 < y[2] < t and (i == 0 or not results[i - 1] or y[2] > results[i - 1][2])
        ]
        fit_x, fit_y = zip(*xy) if xy else ([], [])
        p = np.polyfit(fit_x, fit_y, deg=1)
        out["computed"] = int((round(f * fraction) - p[1]) / p[0])
        if None in results:
            i = results.index(None)
            out["firstFailed"], out["largestProfiled"] = sizes[i], sizes[max(i - 1, 0)]
        out["predict"] = lambda b: float((np.polyval(p, b) + r + a) / t)
    except Exception as exc:  # noqa: BLE001 — as Ultralytics: a failed profile falls back, here with the reason said
        out["error"] = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        torch.cuda.empty_cache()
    return out


class AutoBatch:
    """Replaces ultralytics.utils.autobatch.autobatch for this run (the trainer calls it through
    check_train_batch_size, under its AMP autocast, with the model on the job's device) and sends the
    decision as an `autobatch` event."""

    def __init__(self, events: "Events", ceiling: int, trainer_ref: Callable[[], Any]):
        self.events, self.ceiling, self.trainer_ref = events, ceiling, trainer_ref

    def install(self) -> None:
        from ultralytics.utils import autobatch as module

        module.autobatch = self.autobatch

    def images(self) -> int | None:
        trainer = self.trainer_ref()
        data = getattr(trainer, "data", None) or {}
        try:
            return count_images(data.get("train"), float(getattr(getattr(trainer, "args", None), "fraction", 1.0) or 1.0))
        except OSError:
            return None

    def autobatch(self, model: Any, imgsz: int = 640, fraction: float = 0.60, batch_size: int = ULTRALYTICS_DEFAULT_BATCH, max_num_obj: int = 1) -> int:
        import torch

        device = next(model.parameters()).device
        fields: dict[str, Any] = {"fraction": fraction, "device": str(device), "ceiling": self.ceiling}
        if device.type in {"cpu", "mps"}:
            self.events.emit("autobatch", batch=batch_size, reason="cpu", **fields)
            return batch_size
        if torch.backends.cudnn.benchmark:
            self.events.emit("autobatch", batch=batch_size, reason="error", error="torch.backends.cudnn.benchmark is on", **fields)
            return batch_size
        measured = measure_auto_batch(model, imgsz, fraction, max_num_obj)
        images = self.images()
        batch, reason = decide_auto_batch(measured.get("computed"), self.ceiling, images, measured.get("firstFailed"), measured.get("largestProfiled"))
        predict = measured.get("predict")
        self.events.emit(
            "autobatch",
            batch=batch,
            reason=reason,
            computed=measured.get("computed"),
            memoryTotalGb=round(measured["totalGb"], 1),
            predictedShare=round(predict(batch), 3) if predict and reason != "error" else None,
            **({"images": images} if images else {}),
            **({"error": measured["error"]} if "error" in measured else {}),
            **fields,
        )
        return batch


def auto_batch_ceiling() -> int:
    try:
        return max(1, int(os.environ.get("WYOLO_AUTO_BATCH_MAX") or DEFAULT_AUTO_BATCH_MAX))
    except ValueError:
        return DEFAULT_AUTO_BATCH_MAX


# ── callbacks → events ───────────────────────────────────────────────────────────────────────
class Reporter:
    """Turns Ultralytics callbacks into protocol events, smoothing over its quirks:
    metrics at on_train_epoch_end are the previous epoch's; on_fit_epoch_end fires twice on
    the last epoch (the second is the final validation of best.pt); epochs count from 0."""

    def __init__(self, events: Events, stop_file: Path | None):
        self.events = events
        self.stop_file = stop_file
        self.train_losses: dict[int, dict] = {}
        self.lrs: dict[int, dict] = {}
        self.sent_epochs: set[int] = set()
        self.final_metrics: dict[str, float | None] = {}
        self.stopped_by_request = False
        self.stop_reason: str | None = None  # what the stop file asked for ("cancel", "shutdown", "prune")
        self.started = False
        self.last_epoch = 0
        self.total_epochs = 0
        self.trainer: Any = None
        # The epoch whose weights are best.pt (None on a resume until one replaces it).
        self.best_epoch: int | None = None

    def register(self, model: Any) -> None:
        for name in ("on_pretrain_routine_start", "on_train_start", "on_train_epoch_end", "on_model_save", "on_fit_epoch_end"):
            model.add_callback(name, getattr(self, name))

    def on_pretrain_routine_start(self, trainer: Any) -> None:
        self.trainer = trainer  # AutoBatch reads the training set's size from it

    def on_train_start(self, trainer: Any) -> None:
        self.started = True
        self.total_epochs = int(trainer.epochs)
        start_epoch = int(getattr(trainer, "start_epoch", 0)) + 1
        data = getattr(trainer, "data", None) or {}
        self.events.emit(
            "started",
            totalEpochs=self.total_epochs,
            startEpoch=start_epoch,
            batch=number(getattr(trainer, "batch_size", None)),
            device=str(getattr(trainer, "device", "")),
            args={k: v for k, v in vars(trainer.args).items() if isinstance(v, (str, int, float, bool, list, type(None)))},
            dataset={"train": str(data.get("train", "")), "val": str(data.get("val", "")), "nc": data.get("nc"), "names": _names(data.get("names"))},
            resumed=start_epoch > 1,
        )
        if start_epoch > 1:
            rows = [r for r in read_results(Path(trainer.csv)) if int(float(r["epoch"])) < start_epoch]
            self.continue_clock(trainer, rows)
            self.resend_history(rows)

    def continue_clock(self, trainer: Any, rows: list[dict[str, str]]) -> None:
        """Ultralytics restarts results.csv's `time` at every resume; moving its start back by the
        time already recorded keeps the column cumulative over attempts, so each epoch's duration
        stays readable from it. Not with a `time` limit, which Ultralytics measures from that start."""
        elapsed = number(rows[-1].get("time")) if rows else None
        if elapsed and not getattr(trainer.args, "time", None) and isinstance(getattr(trainer, "train_time_start", None), (int, float)):
            trainer.train_time_start -= elapsed

    def resend_history(self, rows: list[dict[str, str]]) -> None:
        """On resume, send the epochs already done again, with their durations: the worker that
        died may not have stored them, and a resend without a time would blank the stored one."""
        durations = epoch_durations(rows)
        for row in rows:
            epoch = int(float(row["epoch"]))
            self.sent_epochs.add(epoch)
            seconds = durations.get(epoch)
            self.events.emit(
                "epoch",
                epoch=epoch,
                totalEpochs=self.total_epochs,
                losses={k: number(v) for k, v in row.items() if k.startswith(("train/", "val/"))},
                metrics={k: number(v) for k, v in row.items() if k.startswith("metrics/")},
                lr={k: number(v) for k, v in row.items() if k.startswith("lr/")},
                **({"epochTime": seconds} if seconds is not None and seconds >= 0 else {}),
            )

    def on_train_epoch_end(self, trainer: Any) -> None:
        # trainer.metrics is still the previous epoch's here; only losses and lr are current.
        epoch = int(trainer.epoch) + 1
        self.train_losses[epoch] = numbers(trainer.label_loss_items(trainer.tloss, prefix="train"))
        self.lrs[epoch] = numbers(getattr(trainer, "lr", {}))

    def on_model_save(self, trainer: Any) -> None:
        # BaseTrainer.save_model writes best.pt exactly when best_fitness == fitness (a tie replaces it).
        best_fitness, fitness = getattr(trainer, "best_fitness", None), getattr(trainer, "fitness", None)
        if best_fitness is not None and fitness is not None and best_fitness == fitness:
            self.best_epoch = int(trainer.epoch) + 1
        best = Path(trainer.best)
        self.events.emit("checkpoint", epoch=int(trainer.epoch) + 1, last=str(trainer.last), **({"best": str(best)} if best.exists() else {}))
        # Taken here, right after last.pt is written: a shutdown's copy must be this epoch's.
        self.take_stop_request(trainer)

    def take_stop_request(self, trainer: Any) -> None:
        """Stops at this epoch boundary when the stop file is there (once). Not on the last epoch
        or an early stop, which end here anyway. For a shutdown, last.pt is copied before the
        final evaluation strips it, so the next worker can resume."""
        if self.stop_reason or not self.stop_file or not self.stop_file.exists() or trainer.stop:
            return
        try:
            self.stop_reason = self.stop_file.read_text(encoding="utf-8").strip() or "cancel"
        except OSError:
            self.stop_reason = "cancel"
        self.stopped_by_request = True
        trainer.stop = True
        epoch = int(trainer.epoch) + 1
        self.events.emit("log", level="info", message=f"Stop requested ({self.stop_reason}): stopping after epoch {epoch}")
        if self.stop_reason == "shutdown":
            self.keep_resumable(Path(trainer.last))

    def keep_resumable(self, last: Path) -> None:
        if not last.is_file():
            self.events.emit("log", level="warning", message="Shutdown stop: no last.pt to keep; the next worker continues from results.csv")
            return
        copy = last.with_name(RESUMABLE_NAME)
        partial = last.with_name(RESUMABLE_NAME + ".partial")
        shutil.copyfile(last, partial)
        partial.replace(copy)  # never a half-written copy under the name a resume trusts
        self.events.emit("log", level="info", message=f"Kept a resumable checkpoint {copy} for the next worker")

    def on_fit_epoch_end(self, trainer: Any) -> None:
        epoch = int(trainer.epoch) + 1
        metrics = getattr(trainer, "metrics", None) or {}
        if epoch in self.sent_epochs:
            # The second call on the last epoch: the final validation of best.pt.
            self.final_metrics = numbers(metrics, lambda k: k.startswith("metrics/"))
            return
        self.sent_epochs.add(epoch)
        self.last_epoch = epoch
        total = int(trainer.epochs)
        epoch_time = number(getattr(trainer, "epoch_time", None))
        self.events.emit(
            "epoch",
            epoch=epoch,
            totalEpochs=total,
            losses={**self.train_losses.get(epoch, {}), **numbers(metrics, lambda k: k.startswith("val/"))},
            metrics=numbers(metrics, lambda k: k.startswith("metrics/")),
            lr=self.lrs.get(epoch, {}),
            epochTime=epoch_time,
            eta=None if epoch_time is None else round(epoch_time * max(0, total - epoch), 1),
            fitness=number(getattr(trainer, "fitness", None)),
        )
        self.final_metrics = numbers(metrics, lambda k: k.startswith("metrics/"))
        # Also here for runs that do not save every epoch (save=False); last.pt is not stripped yet.
        self.take_stop_request(trainer)


def _names(names: Any) -> Any:
    if isinstance(names, dict):
        return {str(k): str(v) for k, v in names.items()}
    return names


# ── per-class metrics ────────────────────────────────────────────────────────────────────────
MAX_CLASSES = 5000  # the protocol's bound on finished.classes


def _share(value: Any) -> float | None:
    n = number(value)
    return None if n is None else min(1.0, max(0.0, n))


def _scores(values: Any) -> dict[str, float | None]:
    p, r, map50, map50_95 = (_share(v) for v in values)
    return {"p": p, "r": r, "map50": map50, "map50_95": map50_95}


def _class_names(names: Any) -> dict[int, str]:
    if isinstance(names, dict):
        return {int(k): str(v) for k, v in names.items()}
    return {i: str(v) for i, v in enumerate(names or [])}


def class_metrics(validator: Any, fallback_names: Any = None) -> list[dict] | None:
    """Each class's scores from the validator's last run: the final validation of best.pt when it ran
    (BaseTrainer.final_eval), else the last epoch's. Ultralytics 8.3.186: DetMetrics and its Segment/
    Pose/OBB kinds hold per-class results by position in `ap_class_index` (`class_result(i)`: box P, R,
    mAP50, mAP50-95, then mask or pose's), only for classes with validation instances, and counts per
    class id (`nt_per_class`, `nt_per_image`); classify has its confusion matrix (matrix[pred][true],
    (nc+1)² there though only nc are filled). Classes without validation instances are listed with
    zero counts and no scores. None when there is no validation to read."""
    metrics = getattr(validator, "metrics", None)
    if metrics is None:
        return None
    names = _class_names(getattr(metrics, "names", None) or getattr(validator, "names", None) or fallback_names)
    if not names:
        return None
    ids = sorted(names)[:MAX_CLASSES]
    if getattr(metrics, "task", None) == "classify":
        matrix = getattr(getattr(validator, "confusion_matrix", None) or getattr(metrics, "confusion_matrix", None), "matrix", None)
        if matrix is None:
            return None
        rows = [list(row) for row in matrix]
        out = []
        for c in ids:
            total = sum(number(row[c]) or 0 for row in rows) if c < len(rows) else 0
            right = number(rows[c][c]) or 0 if c < len(rows) else 0
            out.append({"id": c, "name": names[c], "images": int(total), "top1": (right / total) if total else None})
        return out
    index = getattr(metrics, "ap_class_index", None)
    if index is None:
        return None
    position = {int(c): i for i, c in enumerate(index)}
    second = {"segment": "mask", "pose": "pose"}.get(str(getattr(metrics, "task", "")))
    per_class, per_image = getattr(metrics, "nt_per_class", None), getattr(metrics, "nt_per_image", None)

    def count(counts: Any, c: int) -> int | None:
        return int(counts[c]) if counts is not None and c < len(counts) else None

    out = []
    for c in ids:
        row: dict[str, Any] = {"id": c, "name": names[c], "images": count(per_image, c), "instances": count(per_class, c)}
        if c in position:
            result = list(metrics.class_result(position[c]))
            row["box"] = _scores(result[:4])
            if second and len(result) >= 8:
                row[second] = _scores(result[4:8])
        out.append(row)
    return out


def finished_mark_classes(save_dir: Path) -> list[dict] | None:
    try:
        classes = json.loads((save_dir / FINISHED_MARK).read_text(encoding="utf-8")).get("classes")
    except (OSError, ValueError, AttributeError):
        return None
    return classes if isinstance(classes, list) else None


def final_class_metrics(trainer: Any, events: Events) -> list[dict] | None:
    """class_metrics of the trainer's validator; a surprise there costs the table, never the run."""
    try:
        return class_metrics(getattr(trainer, "validator", None), (getattr(trainer, "data", None) or {}).get("names"))
    except Exception as exc:  # noqa: BLE001
        events.emit("log", level="warning", message=f"Per-class metrics unavailable ({type(exc).__name__}: {exc})")
        return None


# ── main ─────────────────────────────────────────────────────────────────────────────────────
def watch_lifeline() -> None:
    """The worker holds our stdin open; EOF means it died: stop rather than train unsupervised.
    With WYOLO_LIFELINE_TIMEOUT_MS it also writes to it that often; silence means it froze or lost
    the job's lock, and another worker may be taking the job over: stop just the same."""
    timeout = int(os.environ.get("WYOLO_LIFELINE_TIMEOUT_MS") or 0) / 1000 or None

    def wait() -> None:
        # os.read, not sys.stdin: a thread blocked in a buffered read aborts interpreter shutdown.
        try:
            while select.select([0], [], [], timeout)[0] and os.read(0, 65536):
                pass
        except OSError:
            pass
        os._exit(70)

    threading.Thread(target=wait, name="lifeline", daemon=True).start()


def is_auto_batch(batch: Any) -> bool:
    return isinstance(batch, (int, float)) and (batch == -1 or 0 < batch < 1)


def build_train_args(config: dict, run_dir: Path) -> dict:
    args = dict(config["train"])
    args.update(project=str(run_dir), name="train", exist_ok=True)
    device = os.environ.get("WYOLO_DEVICE")
    if device and "device" not in config["train"]:
        args["device"] = device
    fraction = os.environ.get("WYOLO_AUTO_BATCH_FRACTION")
    if args.get("batch") == -1 and fraction:
        args["batch"] = float(fraction)  # AutoBatch to this share of GPU memory
    return args


def run(config: dict, run_dir: Path, events: Events, stop_file: Path | None, resume: bool, ultralytics: Any) -> int:
    """Trains one job; returns the exit code. Every outcome is reported as an event."""
    train_args = build_train_args(config, run_dir)
    reporter = Reporter(events, stop_file)
    if is_auto_batch(config["train"].get("batch")):
        AutoBatch(events, auto_batch_ceiling(), lambda: reporter.trainer).install()
    save_dir = run_dir / "train"
    last = save_dir / "weights" / "last.pt"
    try:
        if resume:
            use_resumable_copy(last.parent, events)
        if resume and last.is_file():
            try:
                if prepare_resume(last, run_dir / "train"):
                    events.emit("log", level="info", message=f"The checkpoint came from another host; its run continues in {run_dir / 'train'}")
            except Exception as exc:  # noqa: BLE001 — e.g. a worker killed while Ultralytics wrote it
                events.emit("log", level="warning", message=f"This job's checkpoint cannot be read ({type(exc).__name__}: {exc}); training starts over")
                # The fresh run gets a clean directory (the old one is kept aside for a look).
                (run_dir / "train").replace(run_dir / f"train.unreadable-{int(time.time())}")
            if last.is_file() and str(config["train"].get("data", "")).startswith(DATASET_VERSION_PREFIX):
                retarget_checkpoint_data(last, resolve_training_data(str(config["train"]["data"]), config.get("task"), events))
        plan, done = plan_stripped_resume(last, save_dir, config) if resume and last.is_file() else ("fresh", 0)
        if plan == "finished":
            # The run ended and trained what it was asked (or what its early stop / time limit allowed).
            mark = finished_mark(save_dir)
            reason = mark if mark in TERMINAL_REASONS else ("time_limit" if config["train"].get("time") else "completed")
            events.emit("log", level="info", message=f"The run had already finished ({reason}, {done or 'all'} epochs); nothing to resume")
            best = last.parent / "best.pt"
            classes = finished_mark_classes(save_dir)
            events.emit(
                "finished",
                reason=reason,
                last=str(last),
                **({"best": str(best)} if best.exists() else {}),
                **({"classes": classes} if classes else {}),
                resultsCsv=str(save_dir / "results.csv"),
            )
            return 0
        if plan == "continue":
            events.emit("log", level="info", message=f"The checkpoint was stripped after {done} of {config['train']['epochs']} epochs; training the rest from its weights")
            continue_stripped(last, save_dir, config, done)
        if plan in ("resume", "continue"):
            model = ultralytics.RTDETR(str(last)) if config.get("type") == "rtdetr" else ultralytics.YOLO(str(last))
            reporter.register(model)
            events.emit("log", level="info", message=f"Resuming from this job's own checkpoint {last}")
            model.train(resume=str(last))
        else:
            check_rtdetr_imgsz(config)
            train_args["data"] = resolve_training_data(str(train_args["data"]), config.get("task"), events)
            weights_dir, inputs_dir = os.environ.get("WYOLO_WEIGHTS_DIR"), os.environ.get("WYOLO_INPUTS_DIR")
            weights = resolve_model(config["model"], weights_dir, inputs_dir)
            if isinstance(train_args.get("pretrained"), str):
                train_args["pretrained"] = resolve_model(train_args["pretrained"], weights_dir, inputs_dir, "pretrained")
            model_cls = ultralytics.RTDETR if config.get("type") == "rtdetr" else ultralytics.YOLO
            model = model_cls(weights, task=config.get("task")) if model_cls is ultralytics.YOLO else model_cls(weights)
            reporter.register(model)
            model.train(**train_args)
        trainer = model.trainer
        best, last_path = Path(trainer.best), Path(trainer.last)
        stopper = getattr(trainer, "stopper", None)
        if reporter.stop_reason == "shutdown":
            reason = "shutdown"  # not an end: the worker re-queues the job, the next one resumes
        elif reporter.stop_reason == "prune":
            reason = "pruned"  # a sweep trial its pruner gave up on: the job ends, the weights as they are
        elif reporter.stopped_by_request:
            reason = "cancelled"
        elif reporter.last_epoch < reporter.total_epochs and getattr(stopper, "possible_stop", False):
            reason = "early_stopped"
        elif reporter.last_epoch < reporter.total_epochs and train_args.get("time"):
            reason = "time_limit"
        else:
            reason = "completed"
        best_epoch = reporter.best_epoch
        classes = final_class_metrics(trainer, events)
        # The mark keeps the classes too: a resume that finds the run ended sends them again.
        mark = {"reason": reason, "epoch": reporter.last_epoch, **({"classes": classes} if classes else {})}
        (save_dir / FINISHED_MARK).write_text(json.dumps(mark, default=_jsonable, allow_nan=False), encoding="utf-8")
        events.emit(
            "finished",
            reason=reason,
            last=str(last_path),
            **({"best": str(best)} if best.exists() else {}),
            **({"bestEpoch": best_epoch} if best_epoch else {}),
            metrics=reporter.final_metrics,
            **({"classes": classes} if classes else {}),
            resultsCsv=str(trainer.csv),
        )
        return 0
    except BaseException as exc:  # noqa: BLE001 - every failure is reported, then the code says it failed
        error_class, suggestion = classify_failure(exc, train_args.get("batch"), config.get("task"))
        # The log shows the cause too (the event's traceback is not in the log).
        if not isinstance(exc, (TrainerError, KeyboardInterrupt)):
            print("".join(traceback.format_exception(exc))[-4000:], file=sys.stderr, flush=True)
        events.emit(
            "failed",
            errorClass=error_class,
            exceptionType=type(exc).__name__,
            message=str(exc).strip().splitlines()[0][:2000] if str(exc).strip() else type(exc).__name__,
            traceback="".join(traceback.format_exception(exc))[-4000:],
            **({"suggestion": suggestion} if suggestion else {}),
        )
        return 130 if error_class == "INTERRUPTED" else 1


def check() -> int:
    """`train.py --check`: can this worker train? One JSON line on stdout; exit 0 when it can."""
    report: dict[str, Any] = {"python": sys.version.split()[0], "executable": sys.executable}
    missing = []
    try:
        import torch

        report["torch"] = torch.__version__
        report["cuda"] = bool(torch.cuda.is_available())
        report["cudaDevices"] = torch.cuda.device_count() if report["cuda"] else 0
    except ImportError as exc:
        missing.append(f"torch ({exc})")
    try:
        os.environ.setdefault("YOLO_OFFLINE", "true")
        os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="wyolo-check-"))
        import ultralytics

        report["ultralytics"] = ultralytics.__version__
    except ImportError as exc:
        missing.append(f"ultralytics ({exc})")
    report["ok"] = not missing
    if missing:
        report["problem"] = f"{sys.executable} cannot import {', '.join(missing)}; install apps/worker/trainer/requirements.txt"
    print(json.dumps(report))
    return 0 if report["ok"] else 1


def start_child(run_dir: Path) -> tuple[Events, Any]:
    """The start shared by the worker's children (train.py, export.py): the event channel, the
    stdin lifeline, SIGTERM as a reported INTERRUPTED failure, the job's own Ultralytics settings
    with every integration off. Ultralytics is None (and a `failed` event sent) when it is missing."""
    fd = os.environ.get("WYOLO_EVENTS_FD")
    events = Events(int(fd) if fd else None)
    if fd:
        watch_lifeline()
    # SIGTERM (the worker's hard stop) becomes a reported INTERRUPTED failure, not a silent death.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt("terminated by the worker")))
    isolate(run_dir)
    try:
        import ultralytics
        from ultralytics.utils import SETTINGS
    except ImportError as exc:
        events.emit("failed", errorClass="UNKNOWN", exceptionType="ImportError", message=f"Ultralytics is not installed for {sys.executable}: {exc}")
        return events, None
    integrations_off(SETTINGS)
    return events, ultralytics


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def job_log_level(config: dict) -> str | None:
    """The job's `logging.level` (the old service's config.yaml block), or None when it has none."""
    level = str((config.get("logging") or {}).get("level") or "").upper()
    return level if level in LOG_LEVELS else None


def quiet_before_import(level: str | None) -> None:
    """Ultralytics reads YOLO_VERBOSE once, at import: off above INFO, which also hides its progress bars."""
    if level:
        os.environ["YOLO_VERBOSE"] = "true" if level in ("DEBUG", "INFO") else "false"


def follow_log_level(level: str | None) -> None:
    """After the import (which sets its own level): Ultralytics' logger keeps only the job's level and above."""
    if level:
        logging.getLogger("ultralytics").setLevel(level)


def main() -> int:
    if "--check" in sys.argv[1:]:
        return check()
    config = json.loads(Path(os.environ["WYOLO_CONFIG"]).read_text(encoding="utf-8"))
    run_dir = Path(os.environ.get("WYOLO_RUN_DIR", ".")).resolve()
    stop_file = Path(os.environ["WYOLO_STOP_FILE"]) if os.environ.get("WYOLO_STOP_FILE") else None
    level = job_log_level(config)
    quiet_before_import(level)
    events, ultralytics = start_child(run_dir)
    if ultralytics is None:
        return 1
    follow_log_level(level)
    # Relative paths Ultralytics resolves on its own (a bare architecture name) look in the job's
    # run directory, not in the worker's working directory.
    for name in ("WYOLO_WEIGHTS_DIR", "WYOLO_DATASETS_DIR", "WYOLO_INPUTS_DIR", "WYOLO_DATA", "WYOLO_DATASET_CACHE_DIR"):
        if os.environ.get(name):
            os.environ[name] = os.path.abspath(os.environ[name])
    os.chdir(run_dir)
    return run(config, run_dir, events, stop_file, os.environ.get("WYOLO_RESUME") == "1", ultralytics)


if __name__ == "__main__":
    sys.exit(main())
