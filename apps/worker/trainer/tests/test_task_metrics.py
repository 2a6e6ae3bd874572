"""Issue 16 parts 2 and 3 against the Ultralytics stand-in: best.pt's epoch, dataset failures with the
layout the task expects, RT-DETR image sizes, AutoBatch with a ceiling."""
import json
import os

import pytest

import train
import ultralytics  # the stand-in
from capture import Capture

# What Ultralytics 8.3.186 raised for each (real runs on CPU, 2026-11-30; apps/worker/trainer/tests/test_real_ultralytics.py).
REAL_DATASET_ERRORS = {
    "classify model, detect data.yaml": "Dataset '/d/shapes/data.yaml' error ❌ ❌  Download failure for https://ultralytics.com/assets/d/shapes/data.yaml.zip. Environment is not online.",
    "classify model, detect folder": "Dataset '/d/shapes' error ❌ /d/shapes 'train:' no training images found",
    "detect model, a folder": "Dataset '/d/shapes' error ❌ [Errno 21] Is a directory: '/d/shapes'",
}


@pytest.fixture
def job(tmp_path, monkeypatch):
    datasets = tmp_path / "datasets"
    detect = datasets / "shapes"
    (detect / "images" / "train").mkdir(parents=True)
    (detect / "labels" / "train").mkdir(parents=True)
    (detect / "data.yaml").write_text("train: images/train\nval: images/train\nnames: {0: a}\n")
    for split in ("train", "val"):
        for cls in ("cat", "dog"):
            folder = datasets / "pets" / split / cls
            folder.mkdir(parents=True)
            (folder / "1.png").write_bytes(b"png")
    (datasets / "empty").mkdir()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    monkeypatch.setenv("WYOLO_DATASETS_DIR", str(datasets))
    for name in ("WYOLO_INPUTS_DIR", "WYOLO_DEVICE", "WYOLO_AUTO_BATCH_FRACTION", "WYOLO_AUTO_BATCH_MAX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STANDIN", "{}")
    ultralytics.calls.clear()

    def config(task="detect", model="yolov8n.yaml", **train_args):
        return {"model": model, "type": "yolo", "task": task, "train": {"data": "shapes/data.yaml", "epochs": 3, "batch": 8, "imgsz": 256, **train_args}}

    return {"config": config, "run_dir": run_dir, "datasets": datasets, "tmp": tmp_path}


def run(job, config, knobs=None):
    os.environ["STANDIN"] = json.dumps(knobs or {})
    events = Capture()
    code = train.run(config, job["run_dir"], events, job["run_dir"] / "STOP", False, ultralytics)
    return code, events.events


# ── best.pt's epoch ─────────────────────────────────────────────────────────────────────────────
def test_best_epoch_is_the_epoch_of_best_pt_the_last_one_on_a_tie(job):
    code, events = run(job, job["config"](epochs=4), {"fitness": [0.1, 0.3, 0.3, 0.2]})
    assert code == 0
    finished = events[-1]
    assert finished["bestEpoch"] == 3
    # best.pt is epoch 3's, as the stand-in (like BaseTrainer.save_model) wrote it.
    assert json.loads((job["run_dir"] / "train" / "weights" / "best.pt").read_text())["epoch"] == 3
    assert [e["fitness"] for e in events if e["type"] == "epoch"] == [0.1, 0.3, 0.3, 0.2]


# ── dataset layouts ─────────────────────────────────────────────────────────────────────────────
def test_a_folder_as_data_trains_from_its_data_yaml(job):
    code, events = run(job, job["config"](data="shapes"))
    assert code == 0 and ultralytics.calls[-1]["data"] == str(job["datasets"] / "shapes" / "data.yaml")
    assert any(e["type"] == "log" and "is a folder: training from its data.yaml" in e["message"] for e in events)


def test_a_classify_root_is_given_to_ultralytics_as_the_folder(job):
    code, _ = run(job, job["config"](task="classify", model="yolov8n-cls.yaml", data="pets"))
    assert code == 0 and ultralytics.calls[-1]["data"] == str(job["datasets"] / "pets")


@pytest.mark.parametrize(
    ("task", "data", "said", "layout"),
    [
        ("classify", "shapes/data.yaml", "detection-style dataset", "train/ and val/, one subfolder of images per class"),
        ("classify", "shapes", "detection-style dataset", "train/ and val/, one subfolder of images per class"),
        ("classify", "empty", "no train/ folder with a subfolder of images per class", "train/cat/1.jpg"),
        ("detect", "pets", "is a classification folder", "yolo11n-cls.yaml"),
        ("segment", "empty", "a folder without a data.yaml", "polygon labels"),
        ("pose", "empty", "a folder without a data.yaml", "keypoint labels"),
    ],
)
def test_a_dataset_in_the_wrong_layout_fails_as_dataset_invalid_naming_the_layout(job, task, data, said, layout):
    code, events = run(job, job["config"](task=task, data=data))
    failed = events[-1]
    assert code == 1 and failed["type"] == "failed" and failed["errorClass"] == "DATASET_INVALID"
    assert said in failed["message"] and layout in failed["suggestion"]
    assert ultralytics.calls == []


def test_a_missing_dataset_names_the_layout_too(job):
    code, events = run(job, job["config"](task="classify", data="nowhere"))
    assert events[-1]["errorClass"] == "DATASET_NOT_FOUND" and "one subfolder of images per class" in events[-1]["suggestion"]


@pytest.mark.parametrize("case", sorted(REAL_DATASET_ERRORS))
def test_ultralytics_own_dataset_errors_get_a_dataset_class_and_the_layout(case):
    task = "classify" if case.startswith("classify") else "detect"
    error_class, suggestion = train.classify_failure(RuntimeError(REAL_DATASET_ERRORS[case]), 16, task)
    assert error_class == ("DATASET_NOT_FOUND" if "Download" in REAL_DATASET_ERRORS[case] else "DATASET_INVALID")
    assert ("one subfolder of images per class" if task == "classify" else "data.yaml") in suggestion


def test_an_ultralytics_failure_leaves_its_traceback_in_the_log(job, capfd):
    code, events = run(job, job["config"](), {"raise_in_epoch": 1, "raise": f"RuntimeError:{REAL_DATASET_ERRORS['detect model, a folder']}"})
    assert events[-1]["errorClass"] == "DATASET_INVALID"
    assert "Is a directory" in capfd.readouterr().err


# ── RT-DETR image size ──────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize(("imgsz", "multi_scale", "ok"), [(96, False, False), (128, False, True), (192, True, False), (256, True, True)])
def test_rtdetr_below_its_300_queries_is_refused_before_training(job, imgsz, multi_scale, ok):
    cfg = job["config"](imgsz=imgsz, multi_scale=multi_scale)
    cfg.update(type="rtdetr", model="rtdetr-l.yaml")
    code, events = run(job, cfg)
    if ok:
        assert code == 0
    else:
        assert code == 1 and events[-1]["errorClass"] == "INVALID_ARGUMENT" and "RT-DETR needs imgsz" in events[-1]["message"]
        assert ultralytics.calls == []


# ── AutoBatch ───────────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # Measured on an H200 at 640 px (FACTS.md): inside Ultralytics' range, kept.
        ((331, 512), (331, "fits")),
        ((111, 512), (111, "fits")),
        ((469, 512), (469, "fits")),
        # At 256 px: 3146, outside it (Ultralytics trains at 16): the ceiling instead.
        ((3146, 512), (512, "ceiling")),
        ((3146, 4096), (3146, "fits")),
        ((469, 512, 300), (300, "images")),
        ((3146, 512, 300), (300, "images")),
        ((100, 512, None, 64, 32), (32, "profiled")),
        ((-3, 512), (1, "floor")),
        ((None, 512), (16, "error")),
    ],
)
def test_auto_batch_decision(args, expected):
    assert train.decide_auto_batch(*args) == expected


# per_image_gb so that Ultralytics' fit gives 3146 for 60 % of 139.8 GB: (round(139.8 · 0.6) - 0.2) / 3146.5.
H200_256PX = {"total_gb": 139.8, "base_gb": 0.2, "per_image_gb": 83.8 / 3146.5}


def autobatch_event(events):
    return next(e for e in events if e["type"] == "autobatch")


def test_auto_batch_on_a_big_gpu_clamps_to_the_ceiling_instead_of_16(job):
    code, events = run(job, job["config"](batch=-1), {"gpu": H200_256PX})
    assert code == 0
    ev = autobatch_event(events)
    assert ev["computed"] == 3146 and ev["batch"] == 512 and ev["reason"] == "ceiling" and ev["ceiling"] == 512
    assert ev["fraction"] == 0.6 and ev["memoryTotalGb"] == 139.8 and 0 < ev["predictedShare"] < 0.6
    started = next(e for e in events if e["type"] == "started")
    assert started["batch"] == 512
    assert [e["type"] for e in events].index("autobatch") < [e["type"] for e in events].index("started")


def test_auto_batch_fraction_and_ceiling_from_the_worker(job, monkeypatch):
    monkeypatch.setenv("WYOLO_AUTO_BATCH_MAX", "4096")
    code, events = run(job, job["config"](batch=0.3), {"gpu": H200_256PX})
    ev = autobatch_event(events)
    # 30 % of 139.8 GB: (42 - 0.2) / per_image.
    assert ev["fraction"] == 0.3 and ev["reason"] == "fits" and ev["batch"] == ev["computed"] == int(41.8 / H200_256PX["per_image_gb"])
    monkeypatch.setenv("WYOLO_AUTO_BATCH_FRACTION", "0.5")
    code, events = run(job, job["config"](batch=-1), {"gpu": H200_256PX})
    assert autobatch_event(events)["fraction"] == 0.5


def test_auto_batch_never_exceeds_the_training_images(job):
    images = job["tmp"] / "train-images"
    images.mkdir()
    for i in range(40):
        (images / f"{i}.jpg").write_bytes(b"jpg")
    code, events = run(job, job["config"](batch=-1), {"gpu": H200_256PX, "train": str(images)})
    ev = autobatch_event(events)
    assert ev["batch"] == 40 and ev["reason"] == "images" and ev["images"] == 40


def test_auto_batch_below_the_first_size_that_ran_out_of_memory(job):
    code, events = run(job, job["config"](batch=-1), {"gpu": {**H200_256PX, "oom_from": 64}})
    ev = autobatch_event(events)
    assert ev["batch"] == 32 and ev["reason"] == "profiled"


def test_auto_batch_says_why_it_used_16_on_cpu_or_when_profiling_fails(job):
    code, events = run(job, job["config"](batch=-1))
    ev = autobatch_event(events)
    assert code == 0 and ev["reason"] == "cpu" and ev["batch"] == 16 and ev["device"] == "cpu"
    code, events = run(job, job["config"](batch=-1), {"gpu": {**H200_256PX, "raise": "CUDA error: unspecified launch failure"}})
    ev = autobatch_event(events)
    assert ev["reason"] == "error" and ev["batch"] == 16 and "unspecified launch failure" in ev["error"]


def test_a_fixed_batch_has_no_auto_batch(job):
    code, events = run(job, job["config"](batch=8), {"gpu": H200_256PX})
    assert code == 0 and not any(e["type"] == "autobatch" for e in events)
