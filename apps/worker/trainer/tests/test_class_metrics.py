"""Per-class metrics in `finished` (issue 11 §2) against the stand-in, which holds its validator's
results the way Ultralytics 8.3.186's DetMetrics / SegmentMetrics / PoseMetrics / classify
ConfusionMatrix do (utils/metrics.py, models/yolo/*/val.py at 676a8bbb)."""
import json
import os
from types import SimpleNamespace

import pytest

import train
import ultralytics  # the stand-in
from capture import Capture


@pytest.fixture
def job(tmp_path, monkeypatch):
    datasets = tmp_path / "datasets"
    (datasets / "shapes").mkdir(parents=True)
    (datasets / "shapes" / "data.yaml").write_text("train: images/train\nval: images/train\nnames: {0: a}\n")
    for cls in ("cat", "dog"):
        for split in ("train", "val"):
            (datasets / "pets" / split / cls).mkdir(parents=True)
            (datasets / "pets" / split / cls / "1.png").write_bytes(b"png")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    monkeypatch.setenv("WYOLO_DATASETS_DIR", str(datasets))
    for name in ("WYOLO_INPUTS_DIR", "WYOLO_DEVICE", "WYOLO_AUTO_BATCH_FRACTION", "WYOLO_AUTO_BATCH_MAX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STANDIN", "{}")
    return run_dir


def finished(run_dir, task="detect", data="shapes/data.yaml", knobs=None, model="yolov8n.yaml"):
    os.environ["STANDIN"] = json.dumps(knobs or {})
    events = Capture()
    config = {"model": model, "type": "yolo", "task": task, "train": {"data": data, "epochs": 2, "batch": 8}}
    assert train.run(config, run_dir, events, run_dir / "STOP", False, ultralytics) == 0
    event = events.events[-1]
    assert event["type"] == "finished"
    return event


def test_detect_sends_each_class_of_the_final_validation_of_best_pt(job):
    classes = finished(job)["classes"]
    assert [c["name"] for c in classes] == ["circle", "square", "triangle"]
    # Scores by ap_class_index position (class 2 is position 1), from best.pt's validation, not the last epoch's.
    assert classes[0] == {"id": 0, "name": "circle", "images": 2, "instances": 3, "box": {"p": 0.1, "r": 0.11, "map50": 0.12, "map50_95": 0.13}}
    assert classes[2]["box"] == {"p": 0.3, "r": 0.31, "map50": 0.32, "map50_95": 0.33}
    assert (classes[2]["images"], classes[2]["instances"]) == (6, 9)
    # A class without validation instances is listed, with its zero counts and no scores.
    assert classes[1] == {"id": 1, "name": "square", "images": 0, "instances": 0}
    assert "mask" not in classes[0] and "pose" not in classes[0]


@pytest.mark.parametrize("task,key", [("segment", "mask"), ("pose", "pose")])
def test_segment_and_pose_add_their_mask_or_pose_scores(job, task, key):
    classes = finished(job, task=task)["classes"]
    assert classes[0]["box"] == {"p": 0.1, "r": 0.11, "map50": 0.12, "map50_95": 0.13}
    assert classes[0][key] == {"p": 0.14, "r": 0.15, "map50": 0.16, "map50_95": 0.17}
    assert key not in classes[1]


def test_obb_sends_box_scores_only(job):
    classes = finished(job, task="obb")["classes"]
    assert set(classes[2]) == {"id", "name", "images", "instances", "box"}


def test_classify_sends_each_classs_top1_from_the_confusion_matrix(job):
    classes = finished(job, task="classify", data="pets", model="yolov8n-cls.yaml", knobs={"val_classes": [0, 1, 2]})
    by_id = {c["id"]: c for c in classes["classes"]}
    # matrix[pred][true]: class 0 has 1 of 4 right, class 1 2 of 4, class 2 3 of 4.
    assert by_id[0] == {"id": 0, "name": "circle", "images": 4, "top1": 0.25}
    assert by_id[1]["top1"] == 0.5
    assert by_id[2]["top1"] == 0.75


def test_classify_class_without_validation_images_has_no_top1(job):
    classes = finished(job, task="classify", data="pets", model="yolov8n-cls.yaml")["classes"]
    assert classes[1] == {"id": 1, "name": "square", "images": 0, "top1": None}


def test_the_event_matches_the_protocol_bounds():
    """NaN (a class never predicted) becomes null; values stay in [0, 1]; at most MAX_CLASSES classes."""
    nan = float("nan")
    metrics = SimpleNamespace(
        task="detect",
        names={i: f"c{i}" for i in range(train.MAX_CLASSES + 10)},
        ap_class_index=[0],
        class_result=lambda i: (nan, 1.0000001, -0.0, 0.5),
        nt_per_class=[1] * (train.MAX_CLASSES + 10),
        nt_per_image=[1] * (train.MAX_CLASSES + 10),
    )
    classes = train.class_metrics(SimpleNamespace(metrics=metrics))
    assert len(classes) == train.MAX_CLASSES
    assert classes[0]["box"] == {"p": None, "r": 1.0, "map50": 0.0, "map50_95": 0.5}
    json.dumps(classes, allow_nan=False)


def test_a_validator_that_never_ran_or_a_surprise_costs_the_table_not_the_run(job):
    assert train.class_metrics(SimpleNamespace(metrics=None)) is None
    assert train.class_metrics(None) is None
    events = Capture()
    broken = SimpleNamespace(validator=SimpleNamespace(metrics=SimpleNamespace(task="detect", names={0: "a"}, ap_class_index=[0])), data={})
    assert train.final_class_metrics(broken, events) is None  # no class_result: AttributeError
    assert events.events[-1]["level"] == "warning" and "Per-class metrics unavailable" in events.events[-1]["message"]


def test_a_run_without_a_validator_sends_no_classes(job, monkeypatch):
    monkeypatch.setattr(ultralytics._Validator, "__call__", lambda self, final: None)
    assert "classes" not in finished(job)


def test_a_resume_that_finds_the_run_ended_sends_its_classes_again(job):
    first = finished(job)
    os.environ["STANDIN"] = "{}"
    events = Capture()
    config = {"model": "yolov8n.yaml", "type": "yolo", "task": "detect", "train": {"data": "shapes/data.yaml", "epochs": 2, "batch": 8}}
    assert train.run(config, job, events, job / "STOP", True, ultralytics) == 0
    again = events.events[-1]
    assert again["type"] == "finished" and again["reason"] == "completed"
    assert again["classes"] == first["classes"]
