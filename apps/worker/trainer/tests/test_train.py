"""Unit tests of the trainer adapter against the Ultralytics stand-in (tests/standin)."""
import json
import os
import shutil
from pathlib import Path

import pytest

import train
import ultralytics  # the stand-in
from capture import Capture


@pytest.fixture
def job(tmp_path, monkeypatch):
    datasets = tmp_path / "datasets"
    data = datasets / "shapes" / "data.yaml"
    data.parent.mkdir(parents=True)
    data.write_text("names: {0: a}\n")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    monkeypatch.setenv("WYOLO_DATASETS_DIR", str(datasets))
    monkeypatch.delenv("WYOLO_INPUTS_DIR", raising=False)
    monkeypatch.delenv("WYOLO_DEVICE", raising=False)
    monkeypatch.delenv("WYOLO_AUTO_BATCH_FRACTION", raising=False)
    monkeypatch.setenv("STANDIN", "{}")
    ultralytics.calls.clear()

    def config(**train_args):
        return {"model": "yolov8n.yaml", "type": "yolo", "task": "detect", "train": {"data": "shapes/data.yaml", "epochs": 3, "batch": 8, **train_args}}

    return {"config": config, "run_dir": run_dir, "stop": run_dir / "STOP", "data": data, "datasets": datasets}


def run(job, config, resume=False, knobs=None, monkeypatch=None):
    if knobs is not None:
        os.environ["STANDIN"] = json.dumps(knobs)
    events = Capture()
    code = train.run(config, job["run_dir"], events, job["stop"], resume, ultralytics)
    return code, events.events


def test_one_epoch_event_per_epoch_with_that_epochs_numbers(job):
    code, events = run(job, job["config"]())
    assert code == 0
    types = [e["type"] for e in events]
    assert types == ["started", "checkpoint", "epoch", "checkpoint", "epoch", "checkpoint", "epoch", "finished"]
    started = events[0]
    assert started["totalEpochs"] == 3 and started["startEpoch"] == 1 and started["batch"] == 8 and started["resumed"] is False
    epochs = [e for e in events if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    # Not the stale numbers of on_train_epoch_end: epoch 1 carries epoch 1's validation.
    assert epochs[0]["metrics"]["metrics/mAP50-95(B)"] == pytest.approx(0.05)
    assert epochs[0]["losses"] == {"train/box_loss": 1.0, "train/cls_loss": 2.0, "val/box_loss": 3.0}
    assert epochs[1]["lr"] == {"lr/pg0": 0.005, "lr/pg1": 0.005}
    assert epochs[2]["eta"] == 0
    finished = events[-1]
    assert finished["reason"] == "completed" and finished["bestEpoch"] == 3
    # The final validation of best.pt (the duplicate last on_fit_epoch_end) gives the final metrics.
    assert finished["metrics"] == {"metrics/mAP50(B)": 0.99, "metrics/mAP50-95(B)": 0.77}
    assert finished["best"].endswith("best.pt") and finished["resultsCsv"].endswith("results.csv")


def test_trains_in_the_jobs_own_run_directory(job):
    run(job, job["config"]())
    call = ultralytics.calls[-1]
    assert call["project"] == str(job["run_dir"]) and call["name"] == "train" and call["exist_ok"] is True
    assert call["task"] == "detect" and call["cls"] == "YOLO"


def test_rtdetr_type_builds_rtdetr(job):
    cfg = job["config"]()
    cfg.update(type="rtdetr", model="rtdetr-l.yaml")
    run(job, cfg)
    assert ultralytics.calls[-1]["cls"] == "RTDETR"


def test_stop_file_stops_at_the_epoch_boundary_as_cancelled(job):
    job["stop"].write_text("cancel")
    code, events = run(job, job["config"](epochs=10))
    assert code == 0
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1]
    assert events[-1]["type"] == "finished" and events[-1]["reason"] == "cancelled"


def test_early_stopping_is_reported(job):
    code, events = run(job, job["config"](epochs=10), knobs={"early_stop_at": 4})
    assert events[-1]["reason"] == "early_stopped"


def test_resume_continues_from_its_own_checkpoint_and_resends_history(job):
    code, _ = run(job, job["config"](epochs=6), knobs={"raise_in_epoch": 4, "raise": "KeyboardInterrupt:worker died"})
    assert code == 130
    code, events = run(job, job["config"](epochs=6), resume=True, knobs={})
    assert code == 0
    call = ultralytics.calls[-1]
    assert call["resume"] == str(job["run_dir"] / "train" / "weights" / "last.pt")
    started = next(e for e in events if e["type"] == "started")
    assert started["startEpoch"] == 4 and started["resumed"] is True
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1, 2, 3, 4, 5, 6]


def test_a_checkpoint_from_another_host_continues_in_this_run_directory(job, tmp_path):
    run(job, job["config"](epochs=5), knobs={"raise_in_epoch": 3, "raise": "KeyboardInterrupt:worker died"})
    # Another host restores the checkpoint into its own run directory.
    other = tmp_path / "other-host" / "run"
    shutil.copytree(job["run_dir"] / "train", other / "train")
    shutil.rmtree(job["run_dir"] / "train")
    os.environ["STANDIN"] = "{}"
    events = Capture()
    code = train.run(job["config"](epochs=5), other, events, other / "STOP", True, ultralytics)
    assert code == 0
    assert any(e["type"] == "log" and "came from another host" in e["message"] for e in events.events)
    started = next(e for e in events.events if e["type"] == "started")
    assert started["startEpoch"] == 3
    assert (other / "train" / "results.csv").is_file()
    assert not (job["run_dir"] / "train").exists()


def test_a_finished_run_is_not_resumed_and_says_so(job):
    run(job, job["config"](epochs=2))
    code, events = run(job, job["config"](epochs=2), resume=True)
    assert code == 0
    assert any(e["type"] == "log" and "nothing to resume" in e["message"] for e in events)
    assert events[-1]["type"] == "finished"
    assert not any(e["type"] == "started" for e in events)


def test_resume_without_a_checkpoint_starts_fresh(job):
    code, events = run(job, job["config"](epochs=2), resume=True)
    assert code == 0 and events[0]["type"] == "started" and events[0]["startEpoch"] == 1


@pytest.mark.parametrize(
    ("raise_spec", "error_class"),
    [
        ("RuntimeError:CUDA out of memory. Tried to allocate 2.00 GiB", "OUT_OF_MEMORY"),
        ("FileNotFoundError:Dataset 'x.yaml' images not found, missing path", "DATASET_NOT_FOUND"),
        ("SyntaxError:'lr' is not a valid YOLO argument", "INVALID_ARGUMENT"),
        ("KeyboardInterrupt:terminated by the worker", "INTERRUPTED"),
        ("RuntimeError:something else", "UNKNOWN"),
    ],
)
def test_failures_are_classified(job, raise_spec, error_class):
    code, events = run(job, job["config"](), knobs={"raise_in_epoch": 2, "raise": raise_spec})
    failed = events[-1]
    assert code != 0 and failed["type"] == "failed"
    assert failed["errorClass"] == error_class
    assert failed["message"] == raise_spec.split(":", 1)[1]
    assert "Traceback" in failed["traceback"]
    if error_class == "OUT_OF_MEMORY":
        assert "batch 4" in failed["suggestion"]


def test_missing_dataset_fails_fast_before_training(job):
    code, events = run(job, job["config"](data="nowhere/data.yaml"))
    assert code == 1 and events[-1]["errorClass"] == "DATASET_NOT_FOUND"
    assert ultralytics.calls == []


def test_named_weights_come_from_the_weights_dir_or_fail_fast(job, tmp_path, monkeypatch):
    cfg = job["config"]()
    cfg["model"] = "yolo11n.pt"
    monkeypatch.delenv("WYOLO_WEIGHTS_DIR", raising=False)
    code, events = run(job, cfg)
    assert events[-1]["errorClass"] == "INVALID_ARGUMENT"
    assert "not available offline" in events[-1]["message"] and "yolo11n.yaml" in events[-1]["message"]
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "yolo11n.pt").write_text("w")
    monkeypatch.setenv("WYOLO_WEIGHTS_DIR", str(weights))
    code, events = run(job, cfg)
    assert code == 0 and ultralytics.calls[-1]["model"] == str(weights / "yolo11n.pt")


def test_relative_datasets_resolve_against_the_datasets_dir(job, monkeypatch):
    monkeypatch.setenv("WYOLO_DATASETS_DIR", str(job["data"].parent))
    code, _ = run(job, job["config"](data="data.yaml"))
    assert code == 0 and ultralytics.calls[-1]["data"] == str(job["data"])


@pytest.mark.parametrize("data", ["/etc/passwd", "../x/data.yaml", "shapes/../../x.yaml", "a\\b.yaml", "x\x00.yaml"])
def test_datasets_outside_the_datasets_dir_are_refused(job, data):
    code, events = run(job, job["config"](data=data))
    assert code == 1 and events[-1]["errorClass"] == "PATH_NOT_ALLOWED"
    assert ultralytics.calls == []


def test_a_symlink_out_of_a_root_is_refused_after_realpath(job, tmp_path, monkeypatch):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "data.yaml").write_text("names: {0: a}\n")
    (outside / "secret.pt").write_text("pickle")
    (job["datasets"] / "escape").symlink_to(outside)
    (job["datasets"] / "dangling.yaml").symlink_to(outside / "later.yaml")
    for data in ("escape/data.yaml", "dangling.yaml"):
        code, events = run(job, job["config"](data=data))
        assert code == 1 and events[-1]["errorClass"] == "PATH_NOT_ALLOWED", data
        assert "outside DATASETS_DIR" in events[-1]["message"]
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "yolo11n.pt").symlink_to(outside / "secret.pt")
    monkeypatch.setenv("WYOLO_WEIGHTS_DIR", str(weights))
    cfg = job["config"]()
    cfg["model"] = "yolo11n.pt"
    code, events = run(job, cfg)
    assert code == 1 and events[-1]["errorClass"] == "PATH_NOT_ALLOWED" and "WEIGHTS_DIR" in events[-1]["message"]
    code, events = run(job, job["config"](pretrained="yolo11n.pt"))
    assert code == 1 and events[-1]["errorClass"] == "PATH_NOT_ALLOWED"
    assert ultralytics.calls == []


@pytest.mark.parametrize("model", ["/etc/passwd.pt", "../jobs/x/train/weights/best.pt", "a/../../b.pt"])
def test_models_outside_the_weights_dir_are_refused(job, tmp_path, monkeypatch, model):
    monkeypatch.setenv("WYOLO_WEIGHTS_DIR", str(tmp_path))
    cfg = job["config"]()
    cfg["model"] = model
    code, events = run(job, cfg)
    assert code == 1 and events[-1]["errorClass"] == "PATH_NOT_ALLOWED"
    assert ultralytics.calls == []


def test_a_job_reference_trains_from_the_file_the_worker_fetched(job, tmp_path, monkeypatch):
    cfg = job["config"]()
    cfg["model"] = "job:cabc123/best.pt"
    code, events = run(job, cfg)
    assert code == 1 and events[-1]["errorClass"] == "PATH_NOT_ALLOWED" and "inputs" in events[-1]["message"]
    inputs = job["run_dir"] / "inputs"
    inputs.mkdir()
    monkeypatch.setenv("WYOLO_INPUTS_DIR", str(inputs))
    code, events = run(job, cfg)
    assert code == 1 and events[-1]["errorClass"] == "INVALID_ARGUMENT" and "not fetched" in events[-1]["message"]
    (inputs / "cabc123-best.pt").write_text("w")
    code, _ = run(job, cfg)
    assert code == 0 and ultralytics.calls[-1]["model"] == str(inputs / "cabc123-best.pt")
    code, _ = run(job, job["config"](pretrained="job:cabc123/best.pt"))
    assert code == 0 and ultralytics.calls[-1]["pretrained"] == str(inputs / "cabc123-best.pt")


def test_device_and_auto_batch_fraction_from_the_worker(job, monkeypatch):
    monkeypatch.setenv("WYOLO_DEVICE", "0,1")
    monkeypatch.setenv("WYOLO_AUTO_BATCH_FRACTION", "0.7")
    args = train.build_train_args(job["config"](batch=-1), job["run_dir"])
    assert args["device"] == "0,1" and args["batch"] == 0.7
    # An explicit device or batch in the config wins.
    args = train.build_train_args(job["config"](batch=32, device="cpu"), job["run_dir"])
    assert args["device"] == "cpu" and args["batch"] == 32


def test_isolation_gives_each_job_its_own_settings_and_fonts(job, monkeypatch):
    for name in ("YOLO_CONFIG_DIR", "YOLO_OFFLINE", "YOLO_AUTOINSTALL"):
        monkeypatch.setenv(name, "restored-after-the-test")
    config_dir = train.isolate(job["run_dir"])
    assert os.environ["YOLO_CONFIG_DIR"] == str(config_dir) and config_dir.parent == job["run_dir"]
    assert os.environ["YOLO_OFFLINE"] == "true"
    if train.find_font():
        assert (config_dir / "Arial.ttf").is_file() and (config_dir / "Ultralytics" / "Arial.Unicode.ttf").is_file()
    from ultralytics.utils import SETTINGS

    settings = dict(SETTINGS)
    train.integrations_off(settings)
    assert not any(settings[k] for k in train.INTEGRATIONS_OFF)


def test_events_are_valid_json_without_nan(job):
    events = Capture()
    events.emit("epoch", epoch=1, totalEpochs=1, metrics=train.numbers({"a": float("nan"), "b": 1}))
    assert events.events[0]["metrics"] == {"a": None, "b": 1.0} and events.events[0]["v"] == 1


def test_an_unreadable_checkpoint_starts_over_instead_of_failing(job):
    run(job, job["config"](epochs=4), knobs={"raise_in_epoch": 3, "raise": "KeyboardInterrupt:worker died"})
    last = job["run_dir"] / "train" / "weights" / "last.pt"
    last.write_bytes(b"\x80\x04 half a pickle")  # the worker died while it was being written
    code, events = run(job, job["config"](epochs=4), resume=True, knobs={})
    assert code == 0
    assert any(e["type"] == "log" and "cannot be read" in e["message"] for e in events)
    started = next(e for e in events if e["type"] == "started")
    assert started["startEpoch"] == 1


def test_results_csv_ahead_of_the_checkpoint_is_trimmed_on_resume(job):
    run(job, job["config"](epochs=5), knobs={"raise_in_epoch": 4, "raise": "KeyboardInterrupt:worker died"})
    csv = job["run_dir"] / "train" / "results.csv"
    # The csv of epoch 3 was stored, but the worker died before the weights of epoch 3 were.
    last = job["run_dir"] / "train" / "weights" / "last.pt"
    state = json.loads(last.read_text())
    state["epoch"] = 1  # last.pt of epoch 2 (0-based 1)
    last.write_text(json.dumps(state))
    assert [line.split(",")[0] for line in csv.read_text().splitlines()[1:]] == ["1", "2", "3"]
    code, events = run(job, job["config"](epochs=5), resume=True, knobs={})
    assert code == 0
    assert next(e for e in events if e["type"] == "started")["startEpoch"] == 3
    assert [line.split(",")[0] for line in csv.read_text().splitlines()[1:]] == ["1", "2", "3", "4", "5"]


@pytest.mark.parametrize(
    "logging_block, level, verbose",
    [(None, None, None), ({"level": "DEBUG"}, "DEBUG", "true"), ({"level": "INFO"}, "INFO", "true"), ({"level": "WARNING"}, "WARNING", "false"), ({"level": "ERROR"}, "ERROR", "false")],
)
def test_the_jobs_logging_level_sets_ultralytics_verbosity(job, monkeypatch, logging_block, level, verbose):
    import logging

    config = job["config"]()
    if logging_block:
        config["logging"] = {**logging_block, "format": "json"}
    monkeypatch.delenv("YOLO_VERBOSE", raising=False)
    logger = logging.getLogger("ultralytics")
    monkeypatch.setattr(logger, "level", logging.INFO)
    assert train.job_log_level(config) == level
    train.quiet_before_import(level)
    assert os.environ.get("YOLO_VERBOSE") == verbose
    train.follow_log_level(level)
    assert logger.level == (logging.getLevelName(level) if level else logging.INFO)
