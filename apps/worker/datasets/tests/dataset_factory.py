#!/usr/bin/env python3
"""Generates YOLO datasets of every task, clean or with defects planted at known places, and
archives of them (also unsafe ones), for the validator's tests, the worker's integration test and
the benchmark.

  python3 dataset_factory.py OUT --task detect [--train 8 --val 4 --test 0] [--defects all]
      [--size 64x48] [--archive zip|tar|tgz --top NAME]     → prints the expectations as JSON
  python3 dataset_factory.py OUT.zip --unsafe dotdot|absolute|symlink|bomb|many [--archive zip|tar|tgz]

Every image has two objects (two label lines) of classes (i % 3) and ((i + 1) % 3), so the class
counts of a clean set are known. The expectations list what the validator must report:
[{code, severity, file, line}] and, for a clean set, the statistics.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import shutil
import tarfile
import zipfile
from pathlib import Path

from PIL import Image, ImageDraw

# Sorted, as a classification set's folder names are.
NAMES = ["bird", "cat", "dog"]
KPT = [3, 3]
DEFECTS = {
    "detect": ["corrupt_jpeg", "truncated_image", "class_out_of_range", "not_normalised", "missing_label", "orphan_label", "duplicate_image", "names_mismatch"],
    "segment": ["corrupt_jpeg", "truncated_image", "class_out_of_range", "not_normalised", "odd_polygon", "missing_label", "orphan_label", "duplicate_image", "names_mismatch"],
    "pose": ["corrupt_jpeg", "truncated_image", "class_out_of_range", "not_normalised", "bad_keypoints", "missing_label", "orphan_label", "duplicate_image", "names_mismatch"],
    "obb": ["corrupt_jpeg", "truncated_image", "class_out_of_range", "not_normalised", "bad_obb", "missing_label", "orphan_label", "duplicate_image", "names_mismatch"],
    "classify": ["corrupt_jpeg", "truncated_image", "duplicate_image", "names_mismatch"],
}


def image_bytes(rng: random.Random, size: tuple[int, int], fmt: str = "JPEG") -> bytes:
    """A distinct picture: smooth noise (random at 1/8 scale, enlarged) under a few rectangles."""
    w, h = size
    small = (max(1, w // 8), max(1, h // 8))
    im = Image.frombytes("RGB", small, rng.randbytes(small[0] * small[1] * 3)).resize(size, Image.BILINEAR)
    d = ImageDraw.Draw(im)
    for _ in range(3):
        x0, y0 = rng.randrange(w // 2), rng.randrange(h // 2)
        d.rectangle([x0, y0, x0 + rng.randrange(4, w // 2), y0 + rng.randrange(4, h // 2)], fill=tuple(rng.randrange(256) for _ in range(3)))
    buf = io.BytesIO()
    im.save(buf, fmt, quality=85) if fmt == "JPEG" else im.save(buf, fmt)
    return buf.getvalue()


def label_line(task: str, c: int, rng: random.Random) -> str:
    cx, cy, w, h = 0.25 + rng.random() * 0.5, 0.25 + rng.random() * 0.5, 0.1 + rng.random() * 0.3, 0.1 + rng.random() * 0.3
    if task == "detect":
        vals = [cx, cy, w, h]
    elif task == "segment":
        # A hexagon: six points (13 values, never mistaken for an oriented box).
        vals = []
        for k in range(6):
            a = math.pi * k / 3
            vals += [cx + w / 2 * math.cos(a), cy + h / 2 * math.sin(a)]
    elif task == "pose":
        vals = [cx, cy, w, h, cx, cy - h / 2, 2, cx - w / 2, cy + h / 2, 2, cx + w / 2, cy + h / 2, 1]
    else:  # obb: the corners of an axis-aligned box, clockwise
        vals = [cx - w / 2, cy - h / 2, cx + w / 2, cy - h / 2, cx + w / 2, cy + h / 2, cx - w / 2, cy + h / 2]
    return f"{c} " + " ".join(f"{v:.6f}" if not float(v).is_integer() or v < 1 else str(int(v)) for v in vals)


def make(out: Path, task: str, n_train: int = 8, n_val: int = 4, n_test: int = 0, defects: list[str] | None = None, size: tuple[int, int] = (64, 48), seed: int = 0) -> dict:
    """Writes the dataset; returns {"issues": [expected findings], "stats": expected counts}."""
    defects = list(defects or [])
    unknown = set(defects) - set(DEFECTS[task]) - {"empty_split"}
    if unknown:
        raise ValueError(f"{task} cannot plant {sorted(unknown)}")
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    expected: list[dict] = []
    splits = {"train": n_train, "val": n_val, "test": n_test}
    if "empty_split" in defects:
        splits["val"] = 0
    per_class = {i: {} for i in range(3)}
    images_per_split: dict[str, int] = {}

    def expect(code: str, file: str, line: int | None = None, severity: str = "error") -> None:
        expected.append({"code": code, "severity": severity, "file": file, "line": line})

    def img_path(split: str, i: int, c: int) -> str:
        return f"{split}/{NAMES[c]}/img_{i:04d}.jpg" if task == "classify" else f"images/{split}/img_{i:04d}.jpg"

    written: dict[str, bytes] = {}
    for split, n in splits.items():
        if task != "classify" and (n or split != "test"):
            (out / "images" / split).mkdir(parents=True, exist_ok=True)
            (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        if task == "classify" and (n or split == "val"):
            for name in NAMES:
                (out / split / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            c0, c1 = i % 3, (i + 1) % 3
            rel = img_path(split, i, c0)
            data = image_bytes(rng, size)
            (out / rel).write_bytes(data)
            written[rel] = data
            images_per_split[split] = images_per_split.get(split, 0) + 1
            classes = [c0] if task == "classify" else [c0, c1]
            for c in classes:
                per_class[c][split] = per_class[c].get(split, 0) + 1
            if task != "classify":
                lines = [label_line(task, c0, rng), label_line(task, c1, rng)]
                (out / "labels" / split / f"img_{i:04d}.txt").write_text("\n".join(lines) + "\n")
    if task != "classify":
        doc = ["path: .", "train: images/train", "val: images/val"]
        if n_test:
            doc.append("test: images/test")
        if task == "pose":
            doc += [f"kpt_shape: {KPT}", "flip_idx: [0, 2, 1]"]
        if task == "obb":
            doc.append("task: obb")
        doc.append("nc: 3" if "names_mismatch" not in defects else "nc: 4")
        doc.append("names:")
        doc += [f"  {i}: {n}" for i, n in enumerate(NAMES)]
        (out / "data.yaml").write_text("\n".join(doc) + "\n")
        if "names_mismatch" in defects:
            expect("names_mismatch", "data.yaml", doc.index("nc: 4") + 1)
        if "empty_split" in defects:
            expect("empty_split", "data.yaml", doc.index("val: images/val") + 1)

    def lbl(i: int) -> str:
        return f"labels/train/img_{i:04d}.txt"

    def set_line(i: int, n: int, text: str) -> None:
        p = out / lbl(i)
        lines = p.read_text().splitlines()
        lines[n - 1] = text
        p.write_text("\n".join(lines) + "\n")

    if "corrupt_jpeg" in defects:
        rel = img_path("train", 1, 1)
        (out / rel).write_bytes(b"\xff\xd8\xff\xe0" + bytes(rng.randrange(256) for _ in range(600)))
        expect("corrupt_image", rel)
    if "truncated_image" in defects:
        rel = img_path("train", 2, 2)
        data = (out / rel).read_bytes()
        (out / rel).write_bytes(data[: len(data) // 2])
        expect("truncated_image", rel)
    if "class_out_of_range" in defects:
        set_line(3, 2, "7 0.5 0.5 0.2 0.2" if task == "detect" else "7" + label_line(task, 0, rng)[1:])
        expect("class_out_of_range", lbl(3), 2)
    if "not_normalised" in defects:
        line = label_line(task, 1, rng).split()
        line[3] = "1.7"
        set_line(4, 1, " ".join(line))
        expect("not_normalised", lbl(4), 1)
    if "odd_polygon" in defects:
        set_line(5, 2, "0 0.1 0.1 0.5 0.1 0.5 0.5 0.3")
        expect("bad_polygon", lbl(5), 2)
    if "bad_keypoints" in defects:
        set_line(5, 2, "0 0.5 0.5 0.2 0.2 0.5 0.4 2 0.4 0.6")
        expect("bad_keypoints", lbl(5), 2)
    if "bad_obb" in defects:
        set_line(5, 2, "0 0.1 0.1 0.5 0.1 0.5 0.5")
        expect("bad_obb", lbl(5), 2)
    if "missing_label" in defects:
        (out / lbl(6)).unlink()
        expect("missing_label", img_path("train", 6, 0), None, "warning")
    if "orphan_label" in defects:
        (out / "labels/train/ghost.txt").write_text("0 0.5 0.5 0.1 0.1\n")
        expect("orphan_label", "labels/train/ghost.txt", None, "warning")
    if "duplicate_image" in defects:
        src = img_path("train", 7, 7 % 3)
        dst = img_path("val", 1, 1)
        (out / dst).write_bytes((out / src).read_bytes())
        expect("duplicate_image", dst, None, "warning")
    if task == "classify" and "names_mismatch" in defects:
        (out / "val" / "zebra").mkdir(parents=True, exist_ok=True)
        (out / "val/zebra/z.jpg").write_bytes(image_bytes(rng, size))
        expect("names_mismatch", "val/zebra")
    if task == "classify" and "empty_split" in defects:
        expect("empty_split", "val")
    instances = [{"id": i, "name": n, "count": sum(per_class[i].values()), "perSplit": per_class[i]} for i, n in enumerate(NAMES)]
    return {"issues": expected, "stats": {"imagesPerSplit": images_per_split, "instancesPerClass": instances}}


def archive(src: Path, dest: Path, kind: str, top: str | None = None) -> None:
    """Packs src (under one top folder when given) as zip, tar or tgz."""
    files = sorted(p for p in src.rglob("*") if p.is_file())
    name = lambda p: "/".join(x for x in [top, p.relative_to(src).as_posix()] if x)  # noqa: E731
    if kind == "zip":
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
            for p in files:
                z.write(p, name(p))
    else:
        with tarfile.open(dest, "w:gz" if kind == "tgz" else "w") as t:
            for p in files:
                t.add(p, name(p))


def unsafe(dest: Path, kind: str, what: str) -> None:
    """An archive a worker must refuse: `..` or absolute paths, a symlink, a bomb, too many files."""
    ok = b"0 0.5 0.5 0.1 0.1\n"
    entries: list[tuple[str, bytes | None, str | None]] = [("ds/data.yaml", b"train: images/train\nval: images/train\nnames: [a]\n", None), ("ds/labels/train/a.txt", ok, None)]
    if what == "dotdot":
        entries.append(("ds/../../escaped.txt", b"escaped", None))
    elif what == "absolute":
        entries.append(("/tmp/wyolo-absolute-escape.txt", b"escaped", None))
    elif what == "symlink":
        entries.append(("ds/images/train/link.jpg", None, "/etc/passwd"))
    elif what == "bomb":
        entries.append(("ds/images/train/zeros.bin", bytes(80 * 1024 * 1024), None))
    elif what == "many":
        entries += [(f"ds/labels/train/f{i}.txt", ok, None) for i in range(3000)]
    else:
        raise ValueError(what)
    if kind == "zip":
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for n, data, link in entries:
                info = zipfile.ZipInfo(n)
                info.compress_type = zipfile.ZIP_DEFLATED
                if link is not None:
                    info.create_system = 3
                    info.external_attr = (0o120777 << 16)
                    z.writestr(info, link)
                else:
                    info.external_attr = 0o100644 << 16
                    z.writestr(info, data)
    else:
        with tarfile.open(dest, "w:gz" if kind == "tgz" else "w") as t:
            for n, data, link in entries:
                info = tarfile.TarInfo(n)
                if link is not None:
                    info.type, info.linkname = tarfile.SYMTYPE, link
                    t.addfile(info)
                else:
                    info.size = len(data)
                    t.addfile(info, io.BytesIO(data))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path)
    p.add_argument("--task", choices=list(DEFECTS), default="detect")
    p.add_argument("--train", type=int, default=8)
    p.add_argument("--val", type=int, default=4)
    p.add_argument("--test", type=int, default=0)
    p.add_argument("--defects", default="", help="comma list, or `all` (every defect the task can carry)")
    p.add_argument("--size", default="64x48")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--archive", choices=["zip", "tar", "tgz"])
    p.add_argument("--top", help="a top folder inside the archive")
    p.add_argument("--unsafe", choices=["dotdot", "absolute", "symlink", "bomb", "many"])
    a = p.parse_args()
    if a.unsafe:
        unsafe(a.out, a.archive or "zip", a.unsafe)
        return
    defects = DEFECTS[a.task] if a.defects == "all" else [d for d in a.defects.split(",") if d]
    w, h = (int(v) for v in a.size.split("x"))
    if a.archive:
        folder = a.out.with_name(a.out.name + ".d")
        shutil.rmtree(folder, ignore_errors=True)
        exp = make(folder, a.task, a.train, a.val, a.test, defects, (w, h), a.seed)
        archive(folder, a.out, a.archive, a.top)
        shutil.rmtree(folder)
    else:
        exp = make(a.out, a.task, a.train, a.val, a.test, defects, (w, h), a.seed)
    print(json.dumps(exp))


if __name__ == "__main__":
    main()
