"""`data: dataset:<name>@vN`: the trainer trains from what the worker fetched into its dataset cache
(WYOLO_DATA), confined to that cache (WYOLO_DATASET_CACHE_DIR) instead of DATASETS_DIR."""
import json
import os
import shutil

import pytest

import train
import ultralytics  # the stand-in
from capture import Capture

REF = "dataset:shapes@v1"


@pytest.fixture
def job(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    entry = cache / ("a" * 64)
    (entry / "files" / "images" / "train").mkdir(parents=True)
    data = entry / "data.yaml"
    data.write_text(f'path: "{entry / "files"}"\ntrain: "images/train"\nval: "images/train"\nnames:\n  0: "a"\n')
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    # DATASETS_DIR holds a folder named like the reference: it must play no part.
    datasets = tmp_path / "datasets"
    (datasets / "dataset:shapes@v1").mkdir(parents=True)
    (datasets / "dataset:shapes@v1" / "data.yaml").write_text("names: {0: decoy}\n")
    monkeypatch.setenv("WYOLO_DATASETS_DIR", str(datasets))
    monkeypatch.setenv("WYOLO_DATASET_CACHE_DIR", str(cache))
    monkeypatch.setenv("WYOLO_DATA", str(data))
    for name in ("WYOLO_INPUTS_DIR", "WYOLO_DEVICE", "WYOLO_AUTO_BATCH_FRACTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STANDIN", "{}")
    ultralytics.calls.clear()

    def config(**train_args):
        return {"model": "yolov8n.yaml", "type": "yolo", "task": "detect", "train": {"data": REF, "epochs": 3, "batch": 8, **train_args}}

    return {"config": config, "run_dir": run_dir, "stop": run_dir / "STOP", "data": data, "cache": cache, "tmp": tmp_path}


def run(job, config, run_dir=None, resume=False, knobs=None):
    if knobs is not None:
        os.environ["STANDIN"] = json.dumps(knobs)
    events = Capture()
    run_dir = run_dir or job["run_dir"]
    code = train.run(config, run_dir, events, run_dir / "STOP", resume, ultralytics)
    return code, events.events


def test_a_version_trains_from_the_data_yaml_the_worker_fetched(job):
    code, _ = run(job, job["config"]())
    assert code == 0 and ultralytics.calls[-1]["data"] == str(job["data"])


def test_a_version_the_worker_did_not_fetch_fails_before_training(job, monkeypatch):
    monkeypatch.delenv("WYOLO_DATA")
    code, events = run(job, job["config"]())
    assert code == 1 and events[-1]["errorClass"] == "DATASET_NOT_FOUND" and "not fetched by the worker" in events[-1]["message"]
    assert ultralytics.calls == []


def test_a_data_path_outside_the_cache_is_refused(job, monkeypatch):
    outside = job["tmp"] / "elsewhere.yaml"
    outside.write_text("names: {0: a}\n")
    monkeypatch.setenv("WYOLO_DATA", str(outside))
    code, events = run(job, job["config"]())
    assert code == 1 and events[-1]["errorClass"] == "PATH_NOT_ALLOWED" and "dataset cache" in events[-1]["message"]
    # …and through a symlink planted in the cache.
    (job["cache"] / "escape.yaml").symlink_to(outside)
    monkeypatch.setenv("WYOLO_DATA", str(job["cache"] / "escape.yaml"))
    code, events = run(job, job["config"]())
    assert code == 1 and events[-1]["errorClass"] == "PATH_NOT_ALLOWED"
    assert ultralytics.calls == []


def test_a_classify_version_trains_from_its_folder(job, monkeypatch):
    root = job["cache"] / ("b" * 64) / "files"
    for split in ("train", "val"):
        (root / split / "cat").mkdir(parents=True)
        (root / split / "cat" / "1.jpg").write_bytes(b"jpg")
    monkeypatch.setenv("WYOLO_DATA", str(root))
    cfg = job["config"]()
    cfg.update(model="yolov8n-cls.yaml", task="classify")
    code, _ = run(job, cfg)
    assert code == 0 and ultralytics.calls[-1]["data"] == str(root)


def test_a_resume_on_another_host_trains_from_that_hosts_cache(job, tmp_path, monkeypatch):
    run(job, job["config"](epochs=5), knobs={"raise_in_epoch": 3, "raise": "KeyboardInterrupt:worker died"})
    # Another host: its own run directory (restored from the store) and its own cache folder.
    other = tmp_path / "other-host"
    shutil.copytree(job["run_dir"] / "train", other / "run" / "train")
    shutil.copytree(job["cache"], other / "cache")
    shutil.rmtree(job["cache"])
    other_data = other / "cache" / ("a" * 64) / "data.yaml"
    monkeypatch.setenv("WYOLO_DATASET_CACHE_DIR", str(other / "cache"))
    monkeypatch.setenv("WYOLO_DATA", str(other_data))
    code, events = run(job, job["config"](epochs=5), run_dir=other / "run", resume=True, knobs={})
    assert code == 0
    assert next(e for e in events if e["type"] == "started")["startEpoch"] == 3
    # The checkpoint the run continued from names this host's data.yaml, not the dead one's.
    state = json.loads((other / "run" / "train" / "weights" / "last.pt").read_text())
    assert state["train_args"]["data"] == str(other_data)
