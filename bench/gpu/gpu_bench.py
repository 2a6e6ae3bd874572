#!/usr/bin/env python3
"""GPU mode of `npm run bench:trainer`: runs on a GPU host with Python, torch and Ultralytics only
(no Node, no database), e.g. the H200 image of ../shared/FACTS.md.

  PYTHONPATH=<ultralytics source> python3 bench/gpu/gpu_bench.py [--device 0] [--epochs 100] [--out bench-gpu.json]

1. overhead: the same training run directly with Ultralytics and through apps/worker/trainer/train.py
   (events on fd 3, stdin held open, as the worker runs it), wall time and median epoch time of each;
   pick --epochs so a run takes at least two minutes (--min-seconds warns when it did not).
2. autobatch: train.py with `batch: -1` (AutoBatch at --fraction) and, for reference, Ultralytics' own
   AutoBatch on the same config: the batch each chose, train.py's `autobatch` event (Ultralytics'
   estimate, the ceiling, the reason) and the GPU memory share actually used (nvidia-smi, sampled).

Prints one JSON object per measurement and writes them all to --out. On a machine without a GPU,
`--device cpu` runs the same steps (tiny settings recommended), which is how it is tested here.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRAINER = ROOT / "apps" / "worker" / "trainer"

DIRECT = r"""
import json, os, sys, time
sys.path.insert(0, os.environ["WYOLO_TRAINER_DIR"])
import train as adapter
adapter.isolate(__import__("pathlib").Path(os.environ["RUN_DIR"]))
from ultralytics import YOLO
from ultralytics.utils import SETTINGS
adapter.integrations_off(SETTINGS)
args = json.loads(os.environ["ARGS"])
model = YOLO(args.pop("model"))
model.train(**args)
print("DIRECT " + json.dumps({"batch": int(model.trainer.batch_size), "csv": str(model.trainer.csv)}), flush=True)
"""


class GpuMemory:
    """Samples nvidia-smi's memory.used of one GPU while a run goes on (None without nvidia-smi)."""

    def __init__(self, device: str):
        self.index = device.split(",")[0] if device not in ("cpu", "") else None
        self.peak_mib: float | None = None
        self.total_mib: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.used,memory.total", "--format=csv,noheader,nounits", "-i", self.index],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip().splitlines()[0]
        used, total = (float(x) for x in out.split(","))
        self.peak_mib = max(self.peak_mib or 0.0, used)
        self.total_mib = total

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self._sample()
            except (OSError, subprocess.SubprocessError, ValueError, IndexError):
                return

    def __enter__(self) -> "GpuMemory":
        if self.index is not None and shutil.which("nvidia-smi"):
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()

    def share(self) -> float | None:
        return round(self.peak_mib / self.total_mib, 3) if self.peak_mib and self.total_mib else None


def epoch_times(csv_path: Path) -> list[float]:
    sys.path.insert(0, str(TRAINER))
    import train as adapter  # the adapter's own reading of results.csv (cumulative time column)

    return [t for t in adapter.epoch_durations(adapter.read_results(csv_path)).values() if t is not None]


def env_for(run_dir: Path, device: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(WYOLO_TRAINER_DIR=str(TRAINER), RUN_DIR=str(run_dir), WYOLO_DEVICE=device)
    if device != "cpu":
        env["CUDA_VISIBLE_DEVICES"] = device
        env["WYOLO_DEVICE"] = ",".join(str(i) for i in range(len(device.split(","))))
    return env


def run_direct(work: Path, name: str, model: str, train: dict, device: str) -> dict:
    run_dir = work / name
    run_dir.mkdir(parents=True)
    env = env_for(run_dir, device)
    args = {"model": model, **train, "project": str(run_dir), "name": "train", "exist_ok": True, "device": env["WYOLO_DEVICE"]}
    env["ARGS"] = json.dumps(args)
    start = time.monotonic()
    with GpuMemory(device) as memory:
        proc = subprocess.run([sys.executable, "-c", DIRECT], cwd=run_dir, env=env, capture_output=True, text=True)
    wall = time.monotonic() - start
    line = next((l for l in proc.stdout.splitlines() if l.startswith("DIRECT ")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"direct Ultralytics run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    info = json.loads(line[7:])
    times = epoch_times(Path(info["csv"]))
    return {"wallSeconds": round(wall, 2), "batch": info["batch"], "epochs": len(times), "medianEpochSeconds": round(statistics.median(times), 3) if times else None, "gpuMemoryShare": memory.share()}


def run_adapter(work: Path, name: str, model: str, train: dict, device: str, extra_env: dict[str, str] | None = None) -> dict:
    run_dir = work / name
    run_dir.mkdir(parents=True)
    # As a job names it: relative to the worker's DATASETS_DIR.
    train = {**train, "data": os.path.relpath(train["data"], work / "datasets")}
    (run_dir / "config.json").write_text(json.dumps({"model": model, "type": "yolo", "task": "detect", "train": train}))
    env = env_for(run_dir, device)
    env.update(
        WYOLO_CONFIG=str(run_dir / "config.json"), WYOLO_RUN_DIR=str(run_dir), WYOLO_STOP_FILE=str(run_dir / "STOP"),
        WYOLO_DATASETS_DIR=str(work / "datasets"), WYOLO_PROTOCOL_VERSION="1", **(extra_env or {}),
    )
    read_fd, write_fd = os.pipe()
    # The event channel: fd 3 under the worker; train.py takes the number from WYOLO_EVENTS_FD.
    env["WYOLO_EVENTS_FD"] = str(write_fd)
    events: list[dict] = []

    def read_events() -> None:
        with os.fdopen(read_fd, encoding="utf-8") as f:
            events.extend(json.loads(line) for line in f if line.strip())

    reader = threading.Thread(target=read_events, daemon=True)
    reader.start()
    start = time.monotonic()
    with GpuMemory(device) as memory:
        # stdin is the lifeline, held open until the run ends.
        proc = subprocess.Popen(
            [sys.executable, str(TRAINER / "train.py")], cwd=run_dir, env=env, stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, pass_fds=(write_fd,),
        )
        os.close(write_fd)
        stderr_chunks: list[bytes] = []
        drain = threading.Thread(target=lambda: stderr_chunks.append(proc.stderr.read()), daemon=True)
        drain.start()
        proc.wait()  # not communicate(): it would close stdin, which train.py takes for the worker's death
        proc.stdin.close()
        drain.join(10)
        stderr = b"".join(stderr_chunks)
    wall = time.monotonic() - start
    reader.join(10)
    finished = next((e for e in events if e["type"] == "finished"), None)
    if proc.returncode != 0 or finished is None:
        failed = next((e for e in events if e["type"] == "failed"), {})
        raise SystemExit(f"train.py run failed ({proc.returncode}): {failed.get('message')}\n{stderr.decode()[-3000:]}")
    started = next(e for e in events if e["type"] == "started")
    times = epoch_times(Path(finished["resultsCsv"]))
    autobatch = next((e for e in events if e["type"] == "autobatch"), None)
    return {
        "wallSeconds": round(wall, 2), "batch": int(started["batch"]) if started.get("batch") is not None else None, "epochs": len(times),
        "medianEpochSeconds": round(statistics.median(times), 3) if times else None, "gpuMemoryShare": memory.share(),
        **({"autobatch": {k: v for k, v in autobatch.items() if k not in ("v", "type", "time")}} if autobatch else {}),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="0", help="GPU index (CUDA_VISIBLE_DEVICES) or cpu")
    ap.add_argument("--model", default="yolov8n.yaml")
    ap.add_argument("--epochs", type=int, default=100, help="per run; enough for two minutes (H200, 640 images at 256 px: ~1.4 s each)")
    ap.add_argument("--images", type=int, default=640, help="training images of the synthetic set")
    ap.add_argument("--imgsz", type=int, default=256)
    ap.add_argument("--batch", type=int, default=64, help="batch of the overhead runs")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--fraction", type=float, default=0.6, help="AutoBatch's GPU memory share")
    ap.add_argument("--auto-batch-max", type=int, default=512)
    ap.add_argument("--autobatch-epochs", type=int, default=3)
    ap.add_argument("--min-seconds", type=float, default=120)
    ap.add_argument("--skip", choices=["overhead", "autobatch"], action="append", default=[])
    ap.add_argument("--out", default="bench-gpu.json")
    opts = ap.parse_args()

    results: list[dict] = []

    def record(entry: dict) -> None:
        results.append(entry)
        print(json.dumps(entry), flush=True)

    with tempfile.TemporaryDirectory(prefix="wyolo-gpu-bench-") as tmp:
        work = Path(tmp)
        subprocess.run(
            [sys.executable, str(TRAINER / "make_dataset.py"), "detect", str(work / "datasets" / "shapes"),
             "--train", str(opts.images), "--val", str(max(8, opts.images // 4)), "--size", str(opts.imgsz)],
            check=True, capture_output=True,
        )
        common = {"data": str(work / "datasets" / "shapes" / "data.yaml"), "imgsz": opts.imgsz, "workers": opts.workers, "plots": False, "seed": 0, "amp": True}
        host = {"device": opts.device, "python": sys.version.split()[0]}
        try:
            import torch
            import ultralytics

            host.update(torch=torch.__version__, ultralytics=ultralytics.__version__, gpu=torch.cuda.get_device_name(0) if opts.device != "cpu" else None)
        except ImportError as exc:
            raise SystemExit(f"{sys.executable} cannot import torch/ultralytics: {exc}")
        if "overhead" not in opts.skip:
            train = {**common, "epochs": opts.epochs, "batch": opts.batch}
            direct = run_direct(work, "direct", opts.model, train, opts.device)
            adapter = run_adapter(work, "adapter", opts.model, train, opts.device)
            short = min(direct["wallSeconds"], adapter["wallSeconds"]) < opts.min_seconds
            record({
                "name": "trainer_overhead_gpu", **host, "model": opts.model, "images": opts.images, "imgsz": opts.imgsz, "batch": opts.batch,
                "direct": direct, "trainPy": adapter, "wallRatio": round(adapter["wallSeconds"] / direct["wallSeconds"], 3),
                **({"warning": f"a run took under {opts.min_seconds:.0f} s: raise --epochs for a stable figure"} if short else {}),
            })
        if "autobatch" not in opts.skip:
            train = {**common, "epochs": opts.autobatch_epochs, "batch": -1}
            env = {"WYOLO_AUTO_BATCH_FRACTION": str(opts.fraction), "WYOLO_AUTO_BATCH_MAX": str(opts.auto_batch_max)}
            ours = run_adapter(work, "autobatch-adapter", opts.model, train, opts.device, env)
            theirs = run_direct(work, "autobatch-direct", opts.model, {**train, "batch": opts.fraction}, opts.device)
            record({
                "name": "autobatch_gpu", **host, "model": opts.model, "imgsz": opts.imgsz, "images": opts.images, "fraction": opts.fraction,
                "autoBatchMax": opts.auto_batch_max, "trainPy": ours, "ultralyticsAutoBatch": theirs,
            })
    Path(opts.out).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
