"""A sweep trial stopped by its pruner (stop file `prune`): a final end, never resumed."""
import json

import train
import ultralytics  # the stand-in
from test_shutdown_resume import epochs_in_csv, weights
from test_train import job, run  # noqa: F401 — the shared fixture and runner


def test_a_prune_stops_at_the_epoch_boundary_as_pruned_and_keeps_the_weights(job):
    job["stop"].write_text("prune")
    code, events = run(job, job["config"](epochs=5))
    assert code == 0
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1]
    assert any(e["type"] == "log" and "Stop requested (prune)" in e["message"] for e in events)
    finished = events[-1]
    assert finished["type"] == "finished" and finished["reason"] == "pruned"
    assert finished["best"].endswith("best.pt") and (weights(job) / "best.pt").is_file()
    # last.pt as Ultralytics leaves it (stripped by its final evaluation); no copy for a resume.
    assert json.loads((weights(job) / "last.pt").read_text())["epoch"] == -1
    assert not (weights(job) / train.RESUMABLE_NAME).exists()
    mark = json.loads((job["run_dir"] / "train" / train.FINISHED_MARK).read_text())
    assert (mark["reason"], mark["epoch"]) == ("pruned", 1)


def test_a_pruned_run_is_terminal_and_never_trained_further_on_resume(job):
    assert "pruned" in train.TERMINAL_REASONS
    job["stop"].write_text("prune")
    run(job, job["config"](epochs=5))
    job["stop"].unlink()  # the worker removes it before the next attempt
    calls = len(ultralytics.calls)
    code, events = run(job, job["config"](epochs=5), resume=True)
    assert code == 0 and events[-1]["type"] == "finished" and events[-1]["reason"] == "pruned"
    assert any(e["type"] == "log" and "already finished (pruned" in e["message"] for e in events)
    assert not any(e["type"] in ("started", "epoch") for e in events)
    assert len(ultralytics.calls) == calls  # nothing trained
    assert epochs_in_csv(job) == [1]
