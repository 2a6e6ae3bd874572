#!/usr/bin/env python3
"""Writes a small synthetic dataset (standard library only), for the demo job and the tests.

  python3 make_dataset.py detect   OUT [--train 64 --val 16 --size 128 --seed 0]
  python3 make_dataset.py classify OUT [...]
  python3 make_dataset.py segment OUT [...]
  python3 make_dataset.py pose OUT [...]

detect: coloured circles, squares and triangles on noisy backgrounds, YOLO labels and
OUT/data.yaml. classify: one shape per image in OUT/{train,val}/<class>/ folders. segment: the same
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


def canvas(rng: random.Random, size: int) -> bytearray:
    base = [rng.randint(30, 220) for _ in range(3)]
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


def contrast(rng: random.Random) -> tuple[int, int, int]:
    return tuple(rng.choice([rng.randint(0, 40), rng.randint(215, 255)]) for _ in range(3))  # type: ignore[return-value]


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
            for _ in range(rng.randint(1, 3)):
                cls = rng.randrange(len(CLASSES))
                r = rng.randint(size // 10, size // 5)
                cx, cy = rng.randint(r, size - r - 1), rng.randint(r, size - r - 1)
                box = draw(buf, size, CLASSES[cls], cx, cy, r, contrast(rng))
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
            cls = CLASSES[i % len(CLASSES)]
            folder = out / split / cls
            folder.mkdir(parents=True, exist_ok=True)
            buf = canvas(rng, size)
            r = rng.randint(size // 5, size // 3)
            draw(buf, size, cls, size // 2 + rng.randint(-4, 4), size // 2 + rng.randint(-4, 4), r, contrast(rng))
            png(folder / f"{i:04d}.png", size, size, buf)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=["detect", "classify", "segment", "pose"])
    p.add_argument("out", type=Path)
    p.add_argument("--train", type=int, default=64)
    p.add_argument("--val", type=int, default=16)
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
