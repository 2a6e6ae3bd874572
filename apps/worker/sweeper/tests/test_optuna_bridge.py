import math
import threading
import uuid

SPACE = {
    "lr0": {"type": "float", "low": 1e-5, "high": 1e-1, "log": True},
    "momentum": {"type": "float", "low": 0.6, "high": 0.98},
    "batch": {"type": "categorical", "choices": [8, 16, 32]},
}


def spec(**over):
    s = {
        "name": f"wyolo-test-{uuid.uuid4().hex[:10]}",
        "direction": "maximize",
        "sampler": "TPESampler",
        "seed": 7,
        "pruner": "none",
        "grace_period": 1,
        "max_epochs": 9,
        "space": SPACE,
    }
    s.update(over)
    return s


def curve(quality: float, epoch: int) -> float:
    """A deterministic learning curve: converges to `quality`."""
    return quality * (1 - math.exp(-epoch / 2))


def run_trial(bridge, study, quality, epochs=9):
    """Asks one trial and trains it on the curve until the pruner stops it; returns (number, stopped at)."""
    number = bridge.call("ask", study=study, count=1)["trials"][0]["number"]
    for epoch in range(1, epochs + 1):
        if bridge.call("report", study=study, number=number, step=epoch, value=curve(quality, epoch))["prune"]:
            bridge.call("tell", study=study, number=number, state="PRUNED")
            return number, epoch
    bridge.call("tell", study=study, number=number, state="COMPLETE", value=curve(quality, epochs))
    return number, None


def states(bridge, study):
    return {t["number"]: t for t in bridge.call("trials", study=study)["trials"]}


def test_hello_names_the_version_and_usable_samplers(bridge):
    hello = bridge.call("hello")
    assert hello["optuna"].split(".")[0] in {"3", "4", "5"}
    assert {"TPESampler", "RandomSampler", "GridSampler", "QMCSampler"} <= set(hello["samplers"])
    assert isinstance(hello["importance"], bool)


def test_ask_report_tell_and_list(bridge):
    study = spec(pruner="none")
    assert bridge.call("ensure_study", study=study) == {"created": True}
    assert bridge.call("ensure_study", study=study) == {"created": False}
    asked = bridge.call("ask", study=study, count=3)["trials"]
    assert [t["number"] for t in asked] == [0, 1, 2]
    for t in asked:
        assert 1e-5 <= t["params"]["lr0"] <= 1e-1 and 0.6 <= t["params"]["momentum"] <= 0.98 and t["params"]["batch"] in (8, 16, 32)
    assert bridge.call("report", study=study, number=0, step=1, value=0.25) == {"prune": False, "finished": False}
    assert bridge.call("report", study=study, number=0, step=2, value=0.4) == {"prune": False, "finished": False}
    assert bridge.call("tell", study=study, number=0, state="COMPLETE", value=0.5) == {"state": "COMPLETE"}
    assert bridge.call("tell", study=study, number=1, state="FAIL") == {"state": "FAIL"}
    listed = states(bridge, study)
    assert listed[0]["state"] == "COMPLETE" and listed[0]["value"] == 0.5 and listed[0]["intermediate"] == {"1": 0.25, "2": 0.4}
    assert listed[0]["params"] == asked[0]["params"]
    assert listed[1]["state"] == "FAIL" and listed[1]["value"] is None
    assert listed[2]["state"] == "RUNNING"


def test_successive_halving_prunes_a_bad_curve_after_the_grace_period(bridge):
    study = spec(pruner="successive_halving", grace_period=3, sampler="RandomSampler")
    for _ in range(4):
        assert run_trial(bridge, study, quality=0.9)[1] is None
    number, stopped = run_trial(bridge, study, quality=0.2)
    # Not before epoch 3 (grace_period = minimum epochs), then at once.
    assert stopped == 3
    trial = states(bridge, study)[number]
    assert trial["state"] == "PRUNED" and sorted(trial["intermediate"]) == ["1", "2", "3"]
    # A good curve goes on.
    assert run_trial(bridge, study, quality=0.95)[1] is None


def test_median_and_hyperband_prune_bad_curves(bridge):
    for pruner in ("median", "hyperband"):
        study = spec(pruner=pruner, grace_period=2, sampler="RandomSampler")
        for _ in range(4):
            run_trial(bridge, study, quality=0.9)
        stopped = [run_trial(bridge, study, quality=0.1)[1] for _ in range(3)]
        assert any(s is not None for s in stopped), pruner
        assert all(s is None or s >= 2 for s in stopped), (pruner, stopped)


def test_report_and_tell_are_idempotent(bridge):
    study = spec()
    number = bridge.call("ask", study=study, count=1)["trials"][0]["number"]
    bridge.call("report", study=study, number=number, step=1, value=0.3)
    # A resumed trial sends its epochs again: the first value stays.
    assert bridge.call("report", study=study, number=number, step=1, value=0.9)["finished"] is False
    assert states(bridge, study)[number]["intermediate"] == {"1": 0.3}
    assert bridge.call("tell", study=study, number=number, state="COMPLETE", value=0.4) == {"state": "COMPLETE"}
    assert bridge.call("tell", study=study, number=number, state="COMPLETE", value=0.8) == {"state": "COMPLETE"}
    assert bridge.call("tell", study=study, number=number, state="FAIL") == {"state": "COMPLETE"}
    assert bridge.call("report", study=study, number=number, step=2, value=0.5) == {"prune": False, "finished": True}
    assert states(bridge, study)[number]["value"] == 0.4
    pruned = bridge.call("ask", study=study, count=1)["trials"][0]["number"]
    bridge.call("report", study=study, number=pruned, step=1, value=0.1)
    assert bridge.call("tell", study=study, number=pruned, state="PRUNED") == {"state": "PRUNED"}
    assert bridge.call("tell", study=study, number=pruned, state="PRUNED") == {"state": "PRUNED"}
    assert states(bridge, study)[pruned]["value"] == 0.1  # Optuna keeps the last reported value


def test_two_processes_share_one_study(make_bridge):
    study = spec(sampler="TPESampler", seed=3)
    a, b = make_bridge(), make_bridge()
    a.call("ensure_study", study=study)
    got = {}

    def ask_many(name, bridge):
        got[name] = [t for _ in range(5) for t in bridge.call("ask", study=study, count=2)["trials"]]

    threads = [threading.Thread(target=ask_many, args=(n, br)) for n, br in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = [t["number"] for t in got["a"] + got["b"]]
    assert sorted(numbers) == list(range(20))
    # The same seed in both processes, yet no two trials drew the same point.
    assert len({t["params"]["lr0"] for t in got["a"] + got["b"]}) == 20
    # A trial asked by A, reported and told by B, reads as told in A.
    first = got["a"][0]["number"]
    b.call("report", study=study, number=first, step=1, value=0.5)
    assert b.call("tell", study=study, number=first, state="COMPLETE", value=0.6) == {"state": "COMPLETE"}
    assert states(a, study)[first]["state"] == "COMPLETE"
    assert a.call("tell", study=study, number=first, state="FAIL") == {"state": "COMPLETE"}
    assert a.call("report", study=study, number=first, step=2, value=0.7)["finished"] is True


def test_an_asked_trial_is_stored_whole_for_other_processes(make_bridge):
    # The bridge writes a new trial's params in one INSERT after sampling: another process reads them all.
    study = spec(sampler="TPESampler", seed=5)
    a, b = make_bridge(), make_bridge()
    for _ in range(12):  # past TPE's 10 random startup trials, so the multivariate sampling runs too
        t = a.call("ask", study=study, count=1)["trials"][0]
        a.call("report", study=study, number=t["number"], step=1, value=t["params"]["momentum"])
        a.call("tell", study=study, number=t["number"], state="COMPLETE", value=t["params"]["momentum"])
    asked = a.call("ask", study=study, count=2)["trials"]
    seen = states(b, study)
    assert len(seen) == 14
    for t in asked:
        assert seen[t["number"]]["params"] == t["params"] and seen[t["number"]]["state"] == "RUNNING"
    assert all(set(t["params"]) == set(SPACE) for t in seen.values())


def test_seeded_sweeps_repeat(make_bridge):
    a, b = make_bridge(), make_bridge()
    first = a.call("ask", study=spec(seed=11), count=3)["trials"]
    second = b.call("ask", study=spec(seed=11), count=3)["trials"]
    assert [t["params"] for t in first] == [t["params"] for t in second]


def test_grid_sampler_expands_categorical_and_stepped_int(bridge):
    space = {"imgsz": {"type": "int", "low": 320, "high": 640, "step": 160}, "optimizer": {"type": "categorical", "choices": ["SGD", "AdamW"]}}
    study = spec(sampler="GridSampler", space=space)
    asked = bridge.call("ask", study=study, count=6)["trials"]
    points = {(t["params"]["imgsz"], t["params"]["optimizer"]) for t in asked}
    assert points == {(s, o) for s in (320, 480, 640) for o in ("SGD", "AdamW")}
    for t in asked:
        assert bridge.call("tell", study=study, number=t["number"], state="COMPLETE", value=0.1)["state"] == "COMPLETE"
    floats = dict(space, lr0={"type": "float", "low": 0.001, "high": 0.1})
    answer = bridge.send("ensure_study", study=spec(sampler="GridSampler", space=floats))
    assert answer["ok"] is False and answer["error"]["code"] == "INVALID"
    assert "GridSampler needs categorical or stepped int params" in answer["error"]["message"]


def test_other_samplers_ask(bridge):
    for sampler in bridge.call("hello")["samplers"]:
        if sampler == "GridSampler":
            continue
        study = spec(sampler=sampler, space={"x": {"type": "float", "low": 0, "high": 1}, "n": {"type": "int", "low": 1, "high": 4}})
        for _ in range(3):
            t = bridge.call("ask", study=study, count=1)["trials"][0]
            assert 0 <= t["params"]["x"] <= 1 and 1 <= t["params"]["n"] <= 4, sampler
            bridge.call("tell", study=study, number=t["number"], state="COMPLETE", value=t["params"]["x"])


def test_bad_input_answers_invalid_or_not_found_and_the_bridge_goes_on(bridge):
    assert bridge.raw("not json")["error"]["code"] == "INVALID"
    assert bridge.raw("[1, 2]")["error"]["code"] == "INVALID"
    assert bridge.send("explode")["error"]["code"] == "INVALID"
    assert bridge.send("ask", count=1)["error"]["code"] == "INVALID"
    bad_space = spec(space={"lr0": {"type": "float", "low": 1, "high": 0.1}})
    assert bridge.send("ask", study=bad_space, count=1)["error"]["code"] == "INVALID"
    log_zero = spec(space={"lr0": {"type": "float", "low": 0, "high": 0.1, "log": True}})
    assert bridge.send("ask", study=log_zero, count=1)["error"]["code"] == "INVALID"
    assert bridge.send("ask", study=spec(sampler="Nope"), count=1)["error"]["code"] == "INVALID"
    study = spec()
    assert bridge.send("report", study=study, number=0, step=1, value=0.1)["error"]["code"] == "NOT_FOUND"
    bridge.call("ask", study=study, count=1)
    assert bridge.send("report", study=study, number=5, step=1, value=0.1)["error"]["code"] == "NOT_FOUND"
    assert bridge.send("report", study=study, number=0, step=1, value="high")["error"]["code"] == "INVALID"
    assert bridge.send("tell", study=study, number=0, state="COMPLETE")["error"]["code"] == "INVALID"
    assert bridge.send("tell", study=study, number=0, state="DONE", value=1)["error"]["code"] == "INVALID"
    assert bridge.send("ensure_study", study=dict(study, direction="minimize"))["error"]["code"] == "INVALID"
    assert bridge.call("hello")["optuna"]


def test_importances_after_a_few_trials(bridge):
    space = {"x": {"type": "float", "low": 0, "high": 1}, "y": {"type": "float", "low": 0, "high": 1}}
    study = spec(sampler="RandomSampler", space=space)
    first = bridge.call("ask", study=study, count=1)["trials"][0]
    bridge.call("tell", study=study, number=first["number"], state="COMPLETE", value=first["params"]["x"])
    assert bridge.call("importances", study=study)["importances"] is None
    for t in bridge.call("ask", study=study, count=11)["trials"]:
        bridge.call("tell", study=study, number=t["number"], state="COMPLETE", value=(t["params"]["x"] - 0.3) ** 2)
    result = bridge.call("importances", study=study)
    if not bridge.call("hello")["importance"]:
        assert result["importances"] is None and "scikit-learn" in result["reason"]
        return
    shares = result["importances"]
    assert set(shares) == {"x", "y"} and abs(sum(shares.values()) - 1) < 1e-6
    assert shares["x"] > shares["y"]


def test_storage_down_answers_storage_unavailable(make_bridge):
    down = make_bridge("postgresql+psycopg2://postgres@127.0.0.1:1/nowhere?options=-csearch_path%3Doptuna")
    answer = down.send("ask", study=spec(), count=1)
    assert answer["ok"] is False and answer["error"]["code"] == "STORAGE_UNAVAILABLE"
    assert down.call("hello")["optuna"]


def test_exits_on_end_of_input(bridge):
    bridge.call("hello")
    # the fixture closes stdin and asserts exit code 0


def test_workers_starting_together_on_a_fresh_database_create_the_tables_once(make_bridge, storage):
    from pg_admin import admin, storage_url

    database = f"{storage.rsplit('/', 1)[1].split('?')[0]}_fresh"
    admin(f'CREATE DATABASE "{database}"')
    try:
        bridges = [make_bridge(storage_url(database)) for _ in range(4)]
        study = spec()
        answers = {}
        threads = [threading.Thread(target=lambda i=i, b=b: answers.update({i: b.send("ensure_study", study=study)})) for i, b in enumerate(bridges)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(a["ok"] for a in answers.values()), answers
        assert sorted(a["result"]["created"] for a in answers.values()) == [False, False, False, True]
        for b in bridges:
            b.close()
    finally:
        admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
