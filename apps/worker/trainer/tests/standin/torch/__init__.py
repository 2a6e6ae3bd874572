"""A stand-in of the torch calls the trainer makes on checkpoints (tests only, never installed):
the Ultralytics stand-in's checkpoints are JSON, read and written back as they are. For AutoBatch,
a GPU of STANDIN's `gpu.total_gb` (JSON knobs, as the Ultralytics stand-in reads them)."""
import json
import os
from pathlib import Path
from types import SimpleNamespace

__version__ = "0.0-standin"
GB = 1 << 30


def _gpu() -> dict:
    return json.loads(os.environ.get("STANDIN", "{}")).get("gpu") or {}


class device:  # noqa: N801 — torch's own name
    def __init__(self, spec: str):
        self.type, _, index = spec.partition(":")
        self.index = int(index) if index else None

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


cuda = SimpleNamespace(
    is_available=lambda: bool(_gpu()),
    device_count=lambda: 1 if _gpu() else 0,
    get_device_properties=lambda d: SimpleNamespace(total_memory=int(_gpu()["total_gb"] * GB), name="Stand-in GPU"),
    memory_reserved=lambda d: int(_gpu().get("reserved_gb", 0) * GB),
    memory_allocated=lambda d: 0,
    empty_cache=lambda: None,
)
backends = SimpleNamespace(cudnn=SimpleNamespace(benchmark=False))


def empty(*shape):
    return SimpleNamespace(shape=shape)


def load(f, map_location=None, weights_only=None):
    return json.loads(Path(f).read_text())


def save(obj, f):
    Path(f).write_text(json.dumps(obj))
