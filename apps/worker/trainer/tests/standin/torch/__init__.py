"""A stand-in of the torch calls the trainer makes on checkpoints (tests only, never installed):
the Ultralytics stand-in's checkpoints are JSON, read and written back as they are."""
import json
from pathlib import Path
from types import SimpleNamespace

__version__ = "0.0-standin"
cuda = SimpleNamespace(is_available=lambda: False, device_count=lambda: 0)


def load(f, map_location=None, weights_only=None):
    return json.loads(Path(f).read_text())


def save(obj, f):
    Path(f).write_text(json.dumps(obj))
