"""A stop for a worker shutdown, then the resume on the next worker (issue 15, items 6 and 7),
against the Ultralytics stand-in, which strips last.pt on its final evaluation like 8.3.186."""
import json

import pytest

import train
import ultralytics  # the stand-in
from capture import Capture
from test_train import job, run  # noqa: F401 — the shared fixture and runner

EPOCH_SECONDS = {"1": 2.0, "2": 3.0, "3": 4.0, "4": 5.0, "5": 6.0}


def weights(job):
    return job["run_dir"] / "train" / "weights"


def epochs_in_csv(job):
    return [int(row["epoch"]) for row in train.read_results(job["run_dir"] / "train" / "results.csv")]


def shutdown_after_first_epoch(job, epochs=5):
    job["stop"].write_text("shutdown")
    code, events = run(job, job["config"](epochs=epochs), knobs={"epoch_seconds": EPOCH_SECONDS})
    job["stop"].unlink()  # the worker removes it before the next attempt
    return code, events


def test_a_shutdown_stop_keeps_a_resumable_copy_and_says_shutdown(job):
    code, events = shutdown_after_first_epoch(job)
    assert code == 0
    assert events[-1]["type"] == "finished" and events[-1]["reason"] == "shutdown"
    # Ultralytics' final evaluation stripped last.pt; the copy taken at the boundary was not.
    assert json.loads((weights(job) / "last.pt").read_text())["epoch"] == -1
    assert json.loads((weights(job) / train.RESUMABLE_NAME).read_text())["epoch"] == 0
    assert not (weights(job) / (train.RESUMABLE_NAME + ".partial")).exists()


def test_a_cancel_stop_keeps_no_copy_and_says_cancelled(job):
    job["stop"].write_text("cancel")
    code, events = run(job, job["config"](epochs=5))
    assert code == 0 and events[-1]["reason"] == "cancelled"
    assert not (weights(job) / train.RESUMABLE_NAME).exists()


def test_shutdown_then_resume_trains_the_remaining_epochs_and_completes(job):
    shutdown_after_first_epoch(job)
    code, events = run(job, job["config"](epochs=5), resume=True, knobs={"epoch_seconds": EPOCH_SECONDS})
    assert code == 0
    assert ultralytics.calls[-1]["resume"] == str(weights(job) / "last.pt")
    started = [e for e in events if e["type"] == "started"]
    assert len(started) == 1 and started[0]["startEpoch"] == 2 and started[0]["resumed"] is True
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1, 2, 3, 4, 5]
    assert events[-1]["type"] == "finished" and events[-1]["reason"] == "completed"
    assert epochs_in_csv(job) == [1, 2, 3, 4, 5]
    assert not (weights(job) / train.RESUMABLE_NAME).exists()  # consumed by the resume


def test_every_epoch_keeps_its_time_across_a_shutdown_and_a_crash(job):
    shutdown_after_first_epoch(job)
    # Resumed, then killed during epoch 4.
    code, _ = run(job, job["config"](epochs=5), resume=True, knobs={"epoch_seconds": EPOCH_SECONDS, "raise_in_epoch": 4, "raise": "KeyboardInterrupt:worker died"})
    assert code == 130
    code, events = run(job, job["config"](epochs=5), resume=True, knobs={"epoch_seconds": EPOCH_SECONDS})
    assert code == 0
    times = {e["epoch"]: e.get("epochTime") for e in events if e["type"] == "epoch"}
    # Epochs 1–3 re-sent from results.csv, 4–5 trained now: each with its own duration.
    assert times == {1: 2.0, 2: 3.0, 3: 4.0, 4: 5.0, 5: 6.0}
    # The time column stays cumulative over the three attempts.
    rows = train.read_results(job["run_dir"] / "train" / "results.csv")
    assert [float(r["time"]) for r in rows] == [2.0, 5.0, 9.0, 14.0, 20.0]


def test_a_stripped_checkpoint_with_fewer_epochs_than_asked_continues(job):
    # A shutdown whose copy is gone (e.g. a checkpoint restored from the object store): only the
    # stripped last.pt and results.csv remain. Ultralytics alone would say "nothing to resume".
    shutdown_after_first_epoch(job)
    (weights(job) / train.RESUMABLE_NAME).unlink()
    (job["run_dir"] / "train" / train.FINISHED_MARK).unlink()
    with pytest.raises(AssertionError, match="nothing to resume"):
        ultralytics.YOLO(str(weights(job) / "last.pt")).train(resume=str(weights(job) / "last.pt"))
    code, events = run(job, job["config"](epochs=5), resume=True, knobs={"epoch_seconds": EPOCH_SECONDS})
    assert code == 0
    assert any(e["type"] == "log" and "stripped after 1 of 5 epochs" in e["message"] for e in events)
    started = next(e for e in events if e["type"] == "started")
    assert started["startEpoch"] == 2 and started["totalEpochs"] == 5
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1, 2, 3, 4, 5]
    assert next(e for e in events if e["type"] == "epoch")["epochTime"] == 2.0
    assert events[-1]["reason"] == "completed"
    assert epochs_in_csv(job) == [1, 2, 3, 4, 5]


def test_a_stripped_checkpoint_of_a_shutdown_is_not_taken_for_a_finished_run(job):
    # The mark says "shutdown": not an end, so the csv decides.
    shutdown_after_first_epoch(job)
    (weights(job) / train.RESUMABLE_NAME).unlink()
    code, events = run(job, job["config"](epochs=5), resume=True)
    assert code == 0 and events[-1]["reason"] == "completed"
    assert next(e for e in events if e["type"] == "started")["startEpoch"] == 2


def test_a_run_that_trained_every_epoch_is_completed_without_training(job):
    run(job, job["config"](epochs=3))
    (job["run_dir"] / "train" / train.FINISHED_MARK).unlink()  # e.g. restored on another host
    code, events = run(job, job["config"](epochs=3), resume=True)
    assert code == 0 and events[-1]["reason"] == "completed"
    assert not any(e["type"] in ("started", "epoch") for e in events)


def test_an_early_stop_is_not_trained_further_on_resume(job):
    run(job, job["config"](epochs=10), knobs={"early_stop_at": 4})
    code, events = run(job, job["config"](epochs=10), resume=True, knobs={})
    assert code == 0 and events[-1]["reason"] == "early_stopped"
    assert not any(e["type"] == "started" for e in events)
    assert epochs_in_csv(job) == [1, 2, 3, 4]


def test_a_stale_copy_loses_to_a_newer_checkpoint(job):
    shutdown_after_first_epoch(job)
    stale = (weights(job) / train.RESUMABLE_NAME).read_text()
    run(job, job["config"](epochs=5), resume=True, knobs={"raise_in_epoch": 4, "raise": "KeyboardInterrupt:worker died"})
    (weights(job) / train.RESUMABLE_NAME).write_text(stale)  # left behind by some older attempt
    code, events = run(job, job["config"](epochs=5), resume=True, knobs={})
    assert code == 0
    assert next(e for e in events if e["type"] == "started")["startEpoch"] == 4
    assert not (weights(job) / train.RESUMABLE_NAME).exists()


def test_epoch_durations_read_a_restarted_clock():
    rows = [{"epoch": "1", "time": "2"}, {"epoch": "2", "time": "5"}, {"epoch": "3", "time": "4"}, {"epoch": "4", "time": ""}]
    assert train.epoch_durations(rows) == {1: 2.0, 2: 3.0, 3: 4.0, 4: None}


def test_a_stripped_checkpoint_restored_on_another_host_continues_there(job, tmp_path):
    # The object store holds last.pt (stripped, if the upload read it after the final evaluation)
    # and results.csv, not the copy nor the mark.
    shutdown_after_first_epoch(job)
    other = tmp_path / "other-host" / "run"
    (other / "train" / "weights").mkdir(parents=True)
    for name in ("weights/last.pt", "results.csv"):
        (other / "train" / name).write_text((job["run_dir"] / "train" / name).read_text())
    events = Capture()
    code = train.run(job["config"](epochs=5), other, events, other / "STOP", True, ultralytics)
    assert code == 0
    started = next(e for e in events.events if e["type"] == "started")
    assert started["startEpoch"] == 2
    assert events.events[-1]["reason"] == "completed"
    assert [int(r["epoch"]) for r in train.read_results(other / "train" / "results.csv")] == [1, 2, 3, 4, 5]
    assert json.loads((job["run_dir"] / "train" / "weights" / "last.pt").read_text())["epoch"] == -1  # untouched
