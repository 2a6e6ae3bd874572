#!/usr/bin/env python3
"""Validates a YOLO dataset folder and prints one JSON document (report, stats, items).

  python3 validate_dataset.py ROOT [--procs N] [--out FILE]

Layouts (Ultralytics' own):
  detect / segment / pose / obb: a data.yaml at ROOT (or the one *.yaml there) with `names`
    (list or {id: name}), `train` and `val` (and `test`): each a folder of images, or a .txt list
    of images. Labels sit where Ultralytics looks for them: the image path with its last
    `/images/` replaced by `/labels/` and the extension by `.txt`. `kpt_shape` makes it pose; an
    optional `task:` says which task; otherwise the label lines tell (9 values on ≥ 90 % of lines:
    obb, any polygon: segment, else detect).
  classify: ROOT/{train,val,test}/<class>/<images> (no yaml needed; classes are the sorted
    folder names of train).

Every image is decoded (Pillow; JPEGs at a reduced DCT scale, which still reads every byte), every
label line parsed for its task. Findings carry the file (relative to ROOT) and the 1-based line;
at most REPORT_ISSUES_PER_CODE per code are listed, `counts` has them all. The document:

  {"report": {ok, task, counts, issues}, "stats": {...}, "task", "names", "splits",
   "kptShape"?, "flipIdx"?, "yaml"?, "items": [{path, kind, split, width, height, format,
   labels, classIds, errorCount}]}

matching DatasetReport / DatasetStats / ItemLabel in packages/contracts/src/datasets.ts.
Exit status 0 whenever a report was written (an invalid dataset included); 2 on bad usage.
Standard library + Pillow + PyYAML.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import PurePosixPath

import yaml
from PIL import Image, ImageFile

REPORT_ISSUES_PER_CODE = 200
TASKS = ("detect", "segment", "pose", "obb", "classify")
SPLITS = ("train", "val", "test")
# What Ultralytics trains from that Pillow can decode.
IMAGE_EXTS = {".bmp", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp"}
# Labels kept per image for the preview (the counts and stats use them all).
MAX_ITEM_LABELS = 500
MAX_ITEM_POINTS = 400
# Text read whole: larger ones are refused rather than loaded.
MAX_YAML_BYTES = 1024 * 1024
MAX_LABEL_BYTES = 16 * 1024 * 1024
# An image this large is refused before it is decoded (Pillow raises past twice this).
Image.MAX_IMAGE_PIXELS = 60_000_000
ImageFile.LOAD_TRUNCATED_IMAGES = False

SIZE_EDGES = [0, 64, 128, 256, 384, 512, 640, 800, 1024, 1280, 1600, 1920, 2560, 3840]
AREA_EDGES = [0, 0.0001, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]
ASPECT_EDGES = [0, 0.2, 0.33, 0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2, 3, 5]


# ---------------------------------------------------------------- findings


class Findings:
    """Issues by code, capped per code; counts keep every one."""

    def __init__(self) -> None:
        self.issues: list[dict] = []
        self.counts: dict[str, int] = {}

    def add(self, severity: str, code: str, message: str, file: str | None = None, line: int | None = None) -> None:
        n = self.counts.get(code, 0)
        self.counts[code] = n + 1
        if n < REPORT_ISSUES_PER_CODE:
            issue = {"severity": severity, "code": code, "message": message[:1000]}
            if file is not None:
                issue["file"] = file[:1024]
            if line is not None:
                issue["line"] = line
            self.issues.append(issue)

    def error(self, code: str, message: str, file: str | None = None, line: int | None = None) -> None:
        self.add("error", code, message, file, line)

    def warning(self, code: str, message: str, file: str | None = None, line: int | None = None) -> None:
        self.add("warning", code, message, file, line)

    @property
    def has_errors(self) -> bool:
        return any(i["severity"] == "error" for i in self.issues)


def histogram(values: list[float], edges: list[float]) -> dict:
    """Counts per bin [edges[i], edges[i+1]); the last edge grows to hold the largest value."""
    edges = list(edges)
    if values and max(values) >= edges[-1]:
        top = max(values)
        edges[-1] = int(top) + 1 if isinstance(edges[-1], int) else top
    counts = [0] * (len(edges) - 1)
    for v in values:
        lo, hi = 0, len(edges) - 1
        # The bin whose left edge is the last one <= v (the top value lands in the last bin).
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if edges[mid] <= v:
                lo = mid
            else:
                hi = mid
        counts[lo] += 1
    return {"edges": edges, "counts": counts}


def rel(path: str) -> str:
    return path.replace(os.sep, "/")


def label_path_for(image: str) -> str:
    """Ultralytics' img2label_paths: the last /images/ → /labels/, extension → .txt."""
    p = "/" + image
    sa, sb = "/images/", "/labels/"
    if sa in p:
        head, tail = p.rsplit(sa, 1)
        p = head + sb + tail
    stem = p.rsplit(".", 1)[0] if "." in PurePosixPath(p).name else p
    return (stem + ".txt")[1:]


# ---------------------------------------------------------------- labels


def _num(tok: str) -> float | None:
    try:
        v = float(tok)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def parse_labels(text: str, file: str, task: str, nc: int, kpt_shape: list[int] | None):
    """Parses a label file. Returns (labels, class ids, issues, shapes) where shapes are
    (class, normalised w, normalised h) for the stats; issues are (severity, code, message, line)."""
    labels: list[dict] = []
    class_ids: list[int] = []
    shapes: list[tuple[int, float, float]] = []
    issues: list[tuple[str, str, str, int]] = []
    seen: dict[str, int] = {}

    def err(code: str, msg: str, ln: int) -> None:
        issues.append(("error", code, msg, ln))

    for ln, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        norm = " ".join(line.split())
        if norm in seen:
            issues.append(("warning", "duplicate_label_line", f"same as line {seen[norm]} (Ultralytics drops duplicates)", ln))
            continue
        seen[norm] = ln
        toks = line.split()
        vals = [_num(t) for t in toks]
        if any(v is None for v in vals):
            bad = next(t for t, v in zip(toks, vals) if v is None)
            err("bad_label_line", f"not a number: {bad[:40]!r}", ln)
            continue
        c_f, coords = vals[0], vals[1:]
        if c_f != int(c_f):
            err("bad_label_line", f"class id {toks[0][:20]} is not a whole number", ln)
            continue
        c = int(c_f)
        if c < 0 or c >= nc:
            err("class_out_of_range", f"class id {c} is not below nc = {nc}" if c >= 0 else f"class id {c} is negative", ln)
            continue
        n = len(coords)
        label: dict = {"c": c}
        if task == "pose":
            k, d = kpt_shape or (0, 0)
            want = 4 + k * d
            if n != want:
                err("bad_keypoints", f"{n} values after the class; kpt_shape {[k, d]} needs 4 + {k}×{d} = {want}", ln)
                continue
            xy = [v for i, v in enumerate(coords[4:]) if i % d < 2]
            if any(v < 0 or v > 1 for v in coords[:4] + xy):
                err("not_normalised", "coordinates must be normalised to [0, 1]", ln)
                continue
            label["box"] = coords[:4]
            label["kpts"] = coords[4:]
            w, h = coords[2], coords[3]
        elif task == "obb":
            if n != 8:
                err("bad_obb", f"{n} values after the class; an oriented box is 4 corners (8 values)", ln)
                continue
            if any(v < 0 or v > 1 for v in coords):
                err("not_normalised", "coordinates must be normalised to [0, 1]", ln)
                continue
            label["poly"] = coords
            # The rotated box's sides (normalised units).
            w = math.dist(coords[0:2], coords[2:4])
            h = math.dist(coords[2:4], coords[4:6])
        elif task == "segment" or (task == "detect" and n > 4):
            if n % 2:
                err("bad_polygon", f"odd number of coordinates ({n}): a polygon is x y pairs", ln)
                continue
            if n < 6:
                err("bad_polygon", f"{n // 2} points; a polygon needs at least 3", ln)
                continue
            if any(v < 0 or v > 1 for v in coords):
                err("not_normalised", "coordinates must be normalised to [0, 1]", ln)
                continue
            xs, ys = coords[0::2], coords[1::2]
            x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
            w, h = x1 - x0, y1 - y0
            label["box"] = [(x0 + x1) / 2, (y0 + y1) / 2, w, h]
            if task == "segment":
                label["poly"] = coords[: 2 * MAX_ITEM_POINTS]
        else:  # detect box
            if n != 4:
                err("bad_label_line", f"{n} values after the class; a box is cx cy w h", ln)
                continue
            if any(v < 0 or v > 1 for v in coords):
                err("not_normalised", "box values must be normalised to [0, 1] (cx cy w h divided by the image size)", ln)
                continue
            label["box"] = coords
            w, h = coords[2], coords[3]
        if w <= 0 or h <= 0:
            issues.append(("warning", "degenerate_box", "zero width or height", ln))
        class_ids.append(c)
        shapes.append((c, w, h))
        if len(labels) < MAX_ITEM_LABELS:
            labels.append(label)
    return labels, class_ids, issues, shapes


# ---------------------------------------------------------------- images


def exif_size(im: Image.Image) -> tuple[int, int]:
    w, h = im.size
    try:
        if im.format in ("JPEG", "MPO", "TIFF", "WEBP") and im.getexif().get(274) in (5, 6, 7, 8):
            return h, w
    except Exception:
        pass
    return w, h


def check_image(full: str):
    """(sha256, format, width, height, issues) where issues are (severity, code, message)."""
    issues: list[tuple[str, str, str]] = []
    try:
        with open(full, "rb") as f:
            data = f.read()
    except OSError as e:
        return None, None, None, None, [("error", "corrupt_image", f"cannot be read: {e.strerror}")]
    digest = hashlib.sha256(data).hexdigest()
    fmt = width = height = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            fmt = im.format
            width, height = exif_size(im)
            if fmt == "JPEG":
                # Decoding at 1/8 scale reads the whole entropy-coded stream (a truncated one still fails) at a fraction of the cost.
                im.draft(im.mode, (max(1, im.size[0] // 8), max(1, im.size[1] // 8)))
            im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return digest, fmt, width, height, [("error", "image_too_large", "more pixels than a training image should have (a decompression bomb?)")]
    except OSError as e:
        text = str(e)
        if "truncated" in text or "broken data stream" in text:
            return digest, fmt, width, height, [("error", "truncated_image", f"truncated: {text[:200]}")]
        return digest, fmt, width, height, [("error", "corrupt_image", f"cannot be decoded: {text[:200]}")]
    except Exception as e:  # Pillow raises many kinds on garbage (SyntaxError, ValueError…).
        return digest, fmt, width, height, [("error", "corrupt_image", f"cannot be decoded: {type(e).__name__}: {str(e)[:200]}")]
    if fmt == "JPEG" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        issues.append(("warning", "truncated_image", "the JPEG ends without its end marker (decodable; Ultralytics rewrites it)"))
    if width is not None and (width < 10 or height < 10):
        issues.append(("error", "image_too_small", f"{width}×{height}: Ultralytics needs at least 10 px a side"))
    return digest, fmt, width, height, issues


def check_chunk(args):
    """Runs in a pool process: images of one chunk, each with its label file."""
    root, task, nc, kpt_shape, entries = args
    out = []
    for image, label, class_id in entries:
        digest, fmt, width, height, img_issues = check_image(os.path.join(root, image))
        result = {"image": image, "sha256": digest, "format": fmt, "width": width, "height": height, "imageIssues": img_issues}
        if task == "classify":
            result.update(labels=[{"c": class_id}], classIds=[class_id], shapes=[], labelIssues=[], label=None)
        elif label is not None:
            try:
                if os.path.getsize(os.path.join(root, label)) > MAX_LABEL_BYTES:
                    raise ValueError(f"larger than {MAX_LABEL_BYTES // 1024 // 1024} MB")
                with open(os.path.join(root, label), encoding="utf-8") as f:
                    text = f.read()
                labels, ids, issues, shapes = parse_labels(text, label, task, nc, kpt_shape)
            except (OSError, UnicodeDecodeError, ValueError) as e:
                labels, ids, shapes = [], [], []
                issues = [("error", "bad_label_line", f"cannot be read as a label file: {e}", 1)]
            result.update(labels=labels, classIds=ids, shapes=shapes, labelIssues=issues, label=label)
        else:
            result.update(labels=[], classIds=[], shapes=[], labelIssues=[], label=None)
        out.append(result)
    return out


# ---------------------------------------------------------------- layout


class Layout:
    def __init__(self) -> None:
        self.task: str | None = None
        self.names: list[str] = []
        self.kpt_shape: list[int] | None = None
        self.flip_idx: list[int] | None = None
        self.yaml_file: str | None = None
        # split → its folder or list file (relative to ROOT), as the manifest's data.yaml gives it.
        self.splits: dict[str, str] = {}
        # split → [(image, label or None, class id or None)]
        self.images: dict[str, list[tuple[str, str | None, int | None]]] = {}
        # Folders whose .txt files are labels (for orphans).
        self.label_dirs: set[str] = set()


def list_files(root: str) -> list[str]:
    """Every regular file below root (relative posix paths, sorted); links are not followed."""
    files: list[str] = []

    def walk(d: str, prefix: str) -> None:
        with os.scandir(d) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                walk(e.path, f"{prefix}{e.name}/")
            elif e.is_file(follow_symlinks=False):
                files.append(prefix + e.name)

    walk(root, "")
    return sorted(files)


def is_image(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in IMAGE_EXTS


def key_lines(text: str) -> dict[str, int]:
    """The 1-based line of each top-level key of a YAML mapping."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    lines = {}
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if isinstance(k, yaml.ScalarNode):
                lines[str(k.value)] = k.start_mark.line + 1
    return lines


def inside(root_rel: str) -> bool:
    parts = PurePosixPath(root_rel).parts
    return not root_rel.startswith("/") and ".." not in parts


def norm_rel(*parts: str) -> str:
    """Joins and normalises relative posix paths ('' for the root)."""
    p = os.path.normpath(os.path.join(*[x for x in parts if x])) if any(parts) else "."
    p = rel(p)
    return "" if p == "." else p


def read_yaml_layout(root: str, files: list[str], yaml_file: str, f: Findings) -> Layout | None:
    lay = Layout()
    lay.yaml_file = yaml_file
    try:
        if os.path.getsize(os.path.join(root, yaml_file)) > MAX_YAML_BYTES:
            f.error("bad_yaml", f"larger than {MAX_YAML_BYTES // 1024} KB: not a dataset YAML", yaml_file)
            return None
        with open(os.path.join(root, yaml_file), encoding="utf-8") as fh:
            text = fh.read()
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        f.error("bad_yaml", f"not valid YAML: {getattr(e, 'problem', None) or e}", yaml_file, mark.line + 1 if mark else None)
        return None
    except (OSError, UnicodeDecodeError) as e:
        f.error("bad_yaml", f"cannot be read: {e}", yaml_file)
        return None
    if not isinstance(data, dict):
        f.error("bad_yaml", "the dataset YAML must be a mapping (names, train, val…)", yaml_file, 1)
        return None
    lines = key_lines(text)

    # names: a list, or {id: name} with ids 0..n-1.
    names = data.get("names")
    if isinstance(names, list):
        lay.names = [str(n) for n in names]
    elif isinstance(names, dict):
        try:
            ids = sorted(int(k) for k in names)
        except (TypeError, ValueError):
            f.error("names_mismatch", "names: ids must be whole numbers", yaml_file, lines.get("names"))
            return None
        if ids != list(range(len(ids))):
            missing = sorted(set(range(max(ids) + 1)) - set(ids)) if ids else []
            f.error("names_mismatch", f"names: class ids must run 0..{len(ids) - 1} without gaps (missing {missing[:10]})", yaml_file, lines.get("names"))
        lay.names = [str(names.get(i, names.get(str(i), f"class{i}"))) for i in range(max(ids) + 1 if ids else 0)]
    else:
        f.error("names_mismatch", "names: missing (a list of class names, or {id: name})", yaml_file, lines.get("names", 1))
    nc = data.get("nc")
    if nc is not None and (not isinstance(nc, int) or nc != len(lay.names)):
        f.error("names_mismatch", f"nc is {nc} but names has {len(lay.names)} entries", yaml_file, lines.get("nc"))
    dupes = sorted({n for n in lay.names if lay.names.count(n) > 1})
    if dupes:
        f.warning("names_mismatch", f"class names used twice: {', '.join(dupes[:10])}", yaml_file, lines.get("names"))

    task = data.get("task")
    if task is not None:
        if task not in TASKS or task == "classify":
            f.error("bad_yaml", f"task: {task!r} is not one of detect, segment, pose, obb", yaml_file, lines.get("task"))
        else:
            lay.task = task
    kpt = data.get("kpt_shape")
    if kpt is not None:
        if isinstance(kpt, list) and len(kpt) == 2 and all(isinstance(v, int) for v in kpt) and kpt[0] > 0 and kpt[1] in (2, 3):
            lay.kpt_shape = kpt
            lay.task = lay.task or "pose"
        else:
            f.error("bad_keypoints", f"kpt_shape: {kpt!r} must be [keypoints, 2 or 3]", yaml_file, lines.get("kpt_shape"))
        flip = data.get("flip_idx")
        if flip is not None:
            if isinstance(flip, list) and lay.kpt_shape and sorted(flip) == list(range(lay.kpt_shape[0])):
                lay.flip_idx = flip
            else:
                f.error("bad_keypoints", "flip_idx must be a permutation of the keypoint indexes", yaml_file, lines.get("flip_idx"))
    if lay.task == "pose" and not lay.kpt_shape:
        f.error("bad_keypoints", "a pose dataset needs kpt_shape: [keypoints, 2 or 3]", yaml_file, lines.get("task"))
        return None

    base = os.path.dirname(yaml_file)
    given = data.get("path")
    if isinstance(given, str) and given.strip():
        candidate = norm_rel(base, given.strip())
        if given.startswith("/") or not inside(candidate) or not os.path.isdir(os.path.join(root, candidate or ".")):
            f.warning("path_ignored", f"path: {given!r} is not a folder of this upload; paths are read from the YAML's folder", yaml_file, lines.get("path"))
        else:
            base = candidate
    fileset = set(files)
    for split in SPLITS:
        value = data.get(split)
        if value is None or value == "":
            if split != "test":
                f.error("empty_split", f"{split}: not given", yaml_file, lines.get(split, 1))
            continue
        if not isinstance(value, str):
            f.error("unsupported_layout", f"{split}: give one folder of images or one .txt list (several folders are not supported)", yaml_file, lines.get(split))
            continue
        target = norm_rel(base, value.strip())
        if value.strip().startswith("/") or not inside(target):
            f.error("bad_yaml", f"{split}: {value!r} points outside the dataset", yaml_file, lines.get(split))
            continue
        lay.splits[split] = target
        images: list[str] = []
        if target in fileset and target.endswith(".txt"):
            images = read_list(root, target, fileset, f)
        elif os.path.isdir(os.path.join(root, target or ".")):
            prefix = f"{target}/" if target else ""
            images = [p for p in files if p.startswith(prefix) and is_image(p)]
        else:
            f.error("empty_split", f"{split}: {value!r} is not a folder or .txt list in the upload", yaml_file, lines.get(split))
            continue
        entries = []
        for img in images:
            lp = label_path_for(img)
            lay.label_dirs.add(os.path.dirname(lp))
            entries.append((img, lp if lp in fileset else None, None))
        lay.images[split] = entries
        if not images:
            (f.warning if split == "test" else f.error)("empty_split", f"{split}: no images in {value!r}", yaml_file, lines.get(split))
    return lay


def read_list(root: str, list_file: str, fileset: set[str], f: Findings) -> list[str]:
    """A split given as a .txt list: `./x` is relative to the list's folder, other lines to ROOT."""
    out = []
    parent = os.path.dirname(list_file)
    with open(os.path.join(root, list_file), encoding="utf-8", errors="replace") as fh:
        for ln, raw in enumerate(fh, 1):
            line = raw.strip()
            if not line:
                continue
            p = norm_rel(parent, line[2:]) if line.startswith("./") else norm_rel(line)
            if line.startswith("/") or not inside(p):
                f.error("missing_image", f"{line[:200]!r} is outside the dataset", list_file, ln)
            elif p not in fileset:
                f.error("missing_image", f"{line[:200]!r} is not in the upload", list_file, ln)
            else:
                out.append(p)
    return out


def classify_layout(root: str, files: list[str], f: Findings) -> Layout | None:
    """ROOT/{train,val,test}/<class>/<image>: the names are train's sorted class folders."""
    lay = Layout()
    lay.task = "classify"
    folders = {s: sorted(d for d in os.listdir(os.path.join(root, s)) if os.path.isdir(os.path.join(root, s, d))) for s in SPLITS if os.path.isdir(os.path.join(root, s))}
    if "train" not in folders:
        f.error("empty_split", "train/: missing (a folder per class)", "train")
        return lay
    lay.names = folders["train"]
    if "val" not in folders and "test" not in folders:
        f.error("empty_split", "val/: missing (or test/): Ultralytics validates classification on it", "val")
    index = {n: i for i, n in enumerate(lay.names)}
    for split, classes in folders.items():
        lay.splits[split] = split
        extra = [c for c in classes if c not in index]
        for c in extra:
            f.error("names_mismatch", f"class folder {c!r} is not a class of train/ ({len(lay.names)} classes)", f"{split}/{c}")
        entries = []
        for c in classes:
            if c not in index:
                continue
            prefix = f"{split}/{c}/"
            imgs = [p for p in files if p.startswith(prefix) and is_image(p)]
            if not imgs:
                f.warning("empty_class", f"{split}/{c}: no images", f"{split}/{c}")
            entries += [(p, None, index[c]) for p in imgs]
        lay.images[split] = entries
        if not entries:
            (f.warning if split == "test" else f.error)("empty_split", f"{split}/: no images", split)
        stray = [p for p in files if p.startswith(f"{split}/") and p.count("/") == 1 and is_image(p)]
        for p in stray[:REPORT_ISSUES_PER_CODE]:
            f.warning("unused_file", "an image directly in the split folder has no class folder: not trained from", p)
    return lay


def infer_task(root: str, lay: Layout) -> str:
    """From a sample of label lines: 9 values everywhere → obb; any polygon → segment; else detect."""
    counts: list[int] = []
    for entries in lay.images.values():
        for _, label, _ in entries[:300]:
            if label is None:
                continue
            try:
                with open(os.path.join(root, label), encoding="utf-8", errors="replace") as fh:
                    counts += [len(l.split()) for l in fh if l.strip()]
            except OSError:
                pass
    # A few broken lines must not change the task: obb when nearly every line has 9 values.
    if counts and sum(n == 9 for n in counts) >= 0.9 * len(counts):
        return "obb"
    if any(n > 6 for n in counts):
        return "segment"
    return "detect"


def find_layout(root: str, files: list[str], f: Findings) -> Layout | None:
    top_yaml = [p for p in files if "/" not in p and p.lower().endswith((".yaml", ".yml"))]
    if top_yaml:
        chosen = next((p for p in top_yaml if p.lower() in ("data.yaml", "data.yml")), None)
        if chosen is None:
            if len(top_yaml) > 1:
                f.error("bad_yaml", f"several YAML files at the top ({', '.join(top_yaml[:5])}): name the dataset's one data.yaml", top_yaml[0])
                return None
            chosen = top_yaml[0]
        lay = read_yaml_layout(root, files, chosen, f)
        if lay is not None and lay.task is None:
            lay.task = infer_task(root, lay)
        return lay
    if os.path.isdir(os.path.join(root, "train")):
        return classify_layout(root, files, f)
    f.error("unsupported_layout", "no data.yaml at the top and no train/<class>/ folders: not a YOLO dataset", None)
    return None


# ---------------------------------------------------------------- the run


def validate(root: str, procs: int = 0) -> dict:
    f = Findings()
    files = list_files(root)
    lay = find_layout(root, files, f)
    fileset = set(files)
    task = lay.task if lay else None
    names = lay.names if lay else []
    nc = len(names)
    items: list[dict] = []
    per_class = [{"id": i, "name": n, "count": 0, "perSplit": {}} for i, n in enumerate(names)]
    images_per_split: dict[str, int] = {}
    formats: dict[str, int] = {}
    widths: list[float] = []
    heights: list[float] = []
    areas: list[float] = []
    aspects: list[float] = []
    corrupt = background = 0
    by_hash: dict[str, str] = {}
    labels_used: set[str] = set()

    if lay and task:
        jobs = [(split, e) for split, entries in lay.images.items() for e in entries]
        chunk = 64
        batches = [(root, task, nc, lay.kpt_shape, [e for _, e in jobs[i : i + chunk]]) for i in range(0, len(jobs), chunk)]
        split_of = {e[0]: s for s, e in jobs}
        procs = procs or min(8, os.cpu_count() or 1)
        if procs > 1 and len(batches) > 1:
            with ProcessPoolExecutor(max_workers=procs) as pool:
                results = [r for batch in pool.map(check_chunk, batches) for r in batch]
        else:
            results = [r for b in batches for r in check_chunk(b)]
        for r in results:
            image, split = r["image"], split_of[r["image"]]
            errors = 0
            images_per_split[split] = images_per_split.get(split, 0) + 1
            for sev, code, msg in r["imageIssues"]:
                f.add(sev, code, msg, image)
                errors += sev == "error"
            if any(code in ("corrupt_image", "truncated_image", "image_too_large") and sev == "error" for sev, code, _ in r["imageIssues"]):
                corrupt += 1
            elif r["format"]:
                formats[r["format"]] = formats.get(r["format"], 0) + 1
                widths.append(r["width"])
                heights.append(r["height"])
            if r["sha256"]:
                first = by_hash.get(r["sha256"])
                if first is None:
                    by_hash[r["sha256"]] = image
                else:
                    other = split_of[first]
                    where = f"{first}, in {other}: one picture in two splits inflates the validation scores" if other != split else first
                    f.warning("duplicate_image", f"the same image as {where}", image)
            label = r["label"]
            label_errors = 0
            if label is not None:
                labels_used.add(label)
                for sev, code, msg, ln in r["labelIssues"]:
                    f.add(sev, code, msg, label, ln)
                    label_errors += sev == "error"
                items.append({"path": label, "kind": "label", "split": split, "errorCount": label_errors})
            elif task != "classify":
                background += 1
                f.warning("missing_label", f"no label file ({label_path_for(image)}): trained as background", image)
            for c in r["classIds"]:
                per_class[c]["count"] += 1
                per_class[c]["perSplit"][split] = per_class[c]["perSplit"].get(split, 0) + 1
            if r["classIds"] == [] and label is not None:
                background += 1
            for _, w, h in r["shapes"]:
                areas.append(w * h)
                if h > 0 and r["width"] and r["height"]:
                    aspects.append((w * r["width"]) / (h * r["height"]))
            items.append(
                {
                    "path": image,
                    "kind": "image",
                    "split": split,
                    "width": r["width"],
                    "height": r["height"],
                    "format": r["format"],
                    "labels": r["labels"],
                    "classIds": sorted(set(r["classIds"])),
                    "errorCount": errors + label_errors,
                }
            )
        # Labels without images: .txt files in a label folder that no image of a split points at.
        if task != "classify":
            list_files_used = set(lay.splits.values())
            for p in files:
                if p.endswith(".txt") and p not in labels_used and p not in list_files_used and os.path.dirname(p) in lay.label_dirs:
                    f.warning("orphan_label", "a label file without an image: not trained from", p)
                    items.append({"path": p, "kind": "label", "split": None, "errorCount": 0})
        for cls in per_class:
            if cls["count"] == 0 and nc:
                f.warning("class_without_instances", f"class {cls['id']} ({cls['name']}) has no {'images' if task == 'classify' else 'labels'}", lay.yaml_file)
        for split in lay.splits:
            images_per_split.setdefault(split, 0)

    stats = {
        "imagesPerSplit": images_per_split,
        "instancesPerClass": per_class,
        "corruptImages": corrupt,
        "formats": formats,
        "imageWidths": histogram(widths, SIZE_EDGES),
        "imageHeights": histogram(heights, SIZE_EDGES),
        "backgroundImages": background,
    }
    if task and task != "classify":
        stats["boxAreas"] = histogram(areas, AREA_EDGES)
        stats["boxAspects"] = histogram(aspects, ASPECT_EDGES)
    doc = {
        "report": {"ok": lay is not None and task is not None and not f.has_errors, "task": task, "counts": f.counts, "issues": f.issues},
        "stats": stats,
        "task": task,
        "names": names,
        "splits": lay.splits if lay else {},
        "items": items,
    }
    if lay and lay.yaml_file:
        doc["yaml"] = lay.yaml_file
    if lay and lay.kpt_shape:
        doc["kptShape"] = lay.kpt_shape
    if lay and lay.flip_idx:
        doc["flipIdx"] = lay.flip_idx
    return doc


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("root")
    p.add_argument("--procs", type=int, default=0, help="decoding processes (default: CPUs, at most 8)")
    p.add_argument("--out", help="write the JSON here instead of stdout")
    a = p.parse_args()
    if not os.path.isdir(a.root):
        print(f"{a.root}: not a folder", file=sys.stderr)
        sys.exit(2)
    doc = validate(os.path.abspath(a.root), a.procs)
    text = json.dumps(doc, separators=(",", ":"))
    if a.out:
        with open(a.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
