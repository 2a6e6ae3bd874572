#!/usr/bin/env python3
"""Writes a small synthetic dataset (standard library only), for the demo job and the tests.

  python3 make_dataset.py detect   OUT [--train 256 --val 32 --size 128 --seed 0]
  python3 make_dataset.py classify OUT [...]
  python3 make_dataset.py segment OUT [...]
  python3 make_dataset.py pose OUT [...]

detect: one or two circles, squares and triangles per image on a noisy grey background, YOLO
labels and OUT/data.yaml. The defaults are the quickstart's demo set, made so that a from-scratch
yolo11n.yaml run on the simple form's defaults (imgsz 128, batch auto = 16 on CPU) visibly learns
within a few minutes on 2 CPU cores: large shapes that never overlap, each class in its own colour
family, and 256 training images, so Ultralytics' warmup (at least 100 iterations) is over after ~6
epochs instead of 25 (with 64 images mAP stayed 0 for the first minutes). classify: one shape per image in OUT/{train,val}/<class>/ folders. segment: the same
images with polygon labels. pose: box labels with three keypoints per shape (top, bottom left,
bottom right; kpt_shape [3, 3]).
"""
from __future__ import annotations

import argparse
import math
import random
import struct
import zlib
from pathlib import Path

CLASSES = ["circle", "square", "triangle"]


def png(path: Path, width: int, height: int, pixels: bytearray) -> None:
    """An 8-bit RGB PNG from a flat RGB buffer."""
    raw = b"".join(b"\x00" + bytes(pixels[y * width * 3 : (y + 1) * width * 3]) for y in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


# Each class's colour (varied a little per shape): the shape and its colour both tell the class.
COLOURS = [(230, 40, 40), (40, 200, 60), (60, 90, 240)]


def canvas(rng: random.Random, size: int) -> bytearray:
    """A grey background, slightly tinted, with pixel noise."""
    grey = rng.randint(60, 190)
    base = [max(0, min(255, grey + rng.randint(-20, 20))) for _ in range(3)]
    buf = bytearray(size * size * 3)
    for i in range(size * size):
        n = rng.randint(-12, 12)
        buf[i * 3 : i * 3 + 3] = bytes(max(0, min(255, c + n)) for c in base)
    return buf


def draw(buf: bytearray, size: int, shape: str, cx: int, cy: int, r: int, colour: tuple[int, int, int]) -> tuple[int, int, int, int]:
    """Fills a shape; returns its box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = max(0, cx - r), max(0, cy - r), min(size - 1, cx + r), min(size - 1, cy + r)
    for y in range(y0, y1 + 1):
        for x in range(x0, x1 + 1):
            dx, dy = x - cx, y - cy
            if shape == "circle":
                inside = dx * dx + dy * dy <= r * r
            elif shape == "square":
                inside = True
            else:  # triangle pointing up
                inside = dy >= -r and abs(dx) <= (dy + r) / 2
            if inside:
                buf[(y * size + x) * 3 : (y * size + x) * 3 + 3] = bytes(colour)
    return x0, y0, x1, y1


def colour(rng: random.Random, cls: int) -> tuple[int, int, int]:
    return tuple(max(0, min(255, c + rng.randint(-25, 25))) for c in COLOURS[cls])  # type: ignore[return-value]


def place(rng: random.Random, size: int, r: int, placed: list[tuple[int, int, int]]) -> tuple[int, int] | None:
    """A centre for a shape of radius r whose box keeps clear of the shapes already placed (None: no room)."""
    for _ in range(20):
        cx, cy = rng.randint(r, size - r - 1), rng.randint(r, size - r - 1)
        if all(abs(cx - px) > r + pr + 2 or abs(cy - py) > r + pr + 2 for px, py, pr in placed):
            return cx, cy
    return None


def outline(shape: str, cx: int, cy: int, r: int, box: tuple[int, int, int, int]) -> list[tuple[int, int]]:
    """The shape's polygon (clipped to its box)."""
    x0, y0, x1, y1 = box
    if shape == "square":
        points = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    elif shape == "triangle":
        points = [(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    else:
        points = [(round(cx + r * math.cos(a * math.pi / 8)), round(cy + r * math.sin(a * math.pi / 8))) for a in range(16)]
    return [(min(max(x, x0), x1), min(max(y, y0), y1)) for x, y in points]


def keypoints(shape: str, cx: int, cy: int, r: int, box: tuple[int, int, int, int]) -> list[tuple[int, int]]:
    """Top, bottom left, bottom right: mirror images of each other's left and right (flip_idx [0, 2, 1])."""
    x0, y0, x1, y1 = box
    if shape == "circle":
        low = round(r * math.sin(math.pi / 6))
        side = round(r * math.cos(math.pi / 6))
        return [(cx, y0), (cx - side, cy + low), (cx + side, cy + low)]
    return [(cx, y0), (x0, y1), (x1, y1)]


def detect(out: Path, n_train: int, n_val: int, size: int, rng: random.Random, kind: str = "detect") -> None:
    for split, n in (("train", n_train), ("val", n_val)):
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            buf = canvas(rng, size)
            labels = []
            placed: list[tuple[int, int, int]] = []
            for _ in range(rng.randint(1, 2)):
                cls = rng.randrange(len(CLASSES))
                r = rng.randint(size // 8, size // 4)
                if not (centre := place(rng, size, r, placed)):
                    continue
                cx, cy = centre
                placed.append((cx, cy, r))
                box = draw(buf, size, CLASSES[cls], cx, cy, r, colour(rng, cls))
                x0, y0, x1, y1 = box
                xywh = f"{(x0 + x1) / 2 / size:.6f} {(y0 + y1) / 2 / size:.6f} {(x1 - x0 + 1) / size:.6f} {(y1 - y0 + 1) / size:.6f}"
                if kind == "segment":
                    polygon = " ".join(f"{x / size:.6f} {y / size:.6f}" for x, y in outline(CLASSES[cls], cx, cy, r, box))
                    labels.append(f"{cls} {polygon}")
                elif kind == "pose":
                    kpts = " ".join(f"{x / size:.6f} {y / size:.6f} 2" for x, y in keypoints(CLASSES[cls], cx, cy, r, box))
                    labels.append(f"{cls} {xywh} {kpts}")
                else:
                    labels.append(f"{cls} {xywh}")
            png(out / "images" / split / f"{i:04d}.png", size, size, buf)
            (out / "labels" / split / f"{i:04d}.txt").write_text("\n".join(labels) + "\n")
    names = "\n".join(f"  {i}: {c}" for i, c in enumerate(CLASSES))
    pose = "kpt_shape: [3, 3]\nflip_idx: [0, 2, 1]\n" if kind == "pose" else ""
    (out / "data.yaml").write_text(f"path: {out.resolve()}\ntrain: images/train\nval: images/val\n{pose}names:\n{names}\n")


def classify(out: Path, n_train: int, n_val: int, size: int, rng: random.Random) -> None:
    for split, n in (("train", n_train), ("val", n_val)):
        for i in range(n):
            cls = i % len(CLASSES)
            folder = out / split / CLASSES[cls]
            folder.mkdir(parents=True, exist_ok=True)
            buf = canvas(rng, size)
            r = rng.randint(size // 5, size // 3)
            draw(buf, size, CLASSES[cls], size // 2 + rng.randint(-4, 4), size // 2 + rng.randint(-4, 4), r, colour(rng, cls))
            png(folder / f"{i:04d}.png", size, size, buf)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=["detect", "classify", "segment", "pose"])
    p.add_argument("out", type=Path)
    p.add_argument("--train", type=int, default=256)
    p.add_argument("--val", type=int, default=32)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(a.seed)
    if a.task == "classify":
        classify(a.out, a.train, a.val, a.size, rng)
    else:
        detect(a.out, a.train, a.val, a.size, rng, a.task)
    print(f"wrote a synthetic {a.task} dataset to {a.out.resolve()}")


if __name__ == "__main__":
    main()
