#!/usr/bin/env python3
"""Strategies on the sweep stand-in objective (bench/sweep.ts runs this; prints one JSON object).

For each seed, full-budget random search with TRIALS trials of EPOCHS epochs sets the target (its best
objective, less 1 %); each strategy then runs up to TRIALS trials in sequence on in-memory Optuna and
spends epochs until a trial that ran to the end reaches the target. `fill` adds trials to a study on RDB
storage; `reference` prints the same-run reference timings for the bridge overhead figure.
"""

import json
import math
import os
import statistics
import sys
import time
import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.simplefilter("ignore")

OPTIMUM = {"lr0": 0.003, "momentum": 0.9, "weight_decay": 0.0002, "mosaic": 0.6}
SPACE = {
    "lr0": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True),
    "momentum": optuna.distributions.FloatDistribution(0.6, 0.98),
    "weight_decay": optuna.distributions.FloatDistribution(0.0, 0.001),
    "mosaic": optuna.distributions.FloatDistribution(0.0, 1.0),
}


# The bridge's TPE (apps/worker/sweeper/optuna_bridge.py TPE_OPTIONS).
TPE_OPTIONS = {"multivariate": True, "constant_liar": True}


def distances(p):
    p = {**OPTIMUM, **p}
    return (
        (math.log10(p["lr0"]) - math.log10(OPTIMUM["lr0"])) / 4,
        (p["momentum"] - OPTIMUM["momentum"]) / 0.38,
        (p["weight_decay"] - OPTIMUM["weight_decay"]) / 0.001,
        (p["mosaic"] - OPTIMUM["mosaic"]) / 1,
    )


def final(p):
    """apps/worker/test/fixtures/standin-objective.mjs's standinFinal (the formula is documented there)."""
    d_lr, d_m, d_wd, d_mo = distances(p)
    return 1 - (4 * d_lr**2 + d_m**2 + d_wd**2 + 0.5 * d_mo**2)


def curve(p, epoch):
    """standinCurve: final * (1 - exp(-epoch / tau)), tau = 1.5 + 12 |d_lr|."""
    tau = 1.5 + 12 * abs(distances(p)[0])
    return final(p) * (1 - math.exp(-epoch / tau))


def pruner_for(kind, epochs):
    # The bridge's choices (apps/worker/sweeper/optuna_bridge.py make_pruner), grace_period 1.
    if kind == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs, reduction_factor=3)
    return optuna.pruners.NopPruner()


def run(sampler, pruner, seed, trials, epochs):
    """Returns [(epochs spent so far, objective of a trial that ran to the end or None)] per trial."""
    sampler_obj = optuna.samplers.TPESampler(seed=seed, **TPE_OPTIONS) if sampler == "tpe" else optuna.samplers.RandomSampler(seed=seed)
    # A fixed name: HyperbandPruner assigns brackets by hashing it with the trial number, and an
    # unnamed study gets a random one, which made the figure change from run to run.
    study = optuna.create_study(study_name=f"bench-{seed}", direction="maximize", sampler=sampler_obj, pruner=pruner_for(pruner, epochs))
    spent, out = 0, []
    for _ in range(trials):
        trial = study.ask(SPACE)
        value, pruned = None, False
        for epoch in range(1, epochs + 1):
            spent += 1
            value = curve(trial.params, epoch)
            trial.report(value, epoch)
            if trial.should_prune():
                pruned = True
                break
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            out.append((spent, None))
        else:
            study.tell(trial, value)
            out.append((spent, value))
    return out


def epochs_to(history, target):
    for spent, value in history:
        if value is not None and value >= target:
            return spent
    return None


STRATEGIES = [
    ("random", "random", "none"),
    ("tpe", "tpe", "none"),
    ("tpe+successive_halving", "tpe", "successive_halving"),
    ("tpe+hyperband", "tpe", "hyperband"),
]


def strategies(seeds, trials, epochs):
    per = {name: [] for name, _, _ in STRATEGIES}
    for seed in range(seeds):
        random_run = run("random", "none", seed, trials, epochs)
        best = max(v for _, v in random_run if v is not None)
        target = best - 0.01 * abs(best)
        for name, sampler, pruner in STRATEGIES:
            history = random_run if name == "random" else run(sampler, pruner, seed, trials, epochs)
            per[name].append(epochs_to(history, target))
    inf = float("inf")
    random_median = statistics.median([e if e is not None else inf for e in per["random"]])
    result = {}
    for name, spent in per.items():
        median = statistics.median([e if e is not None else inf for e in spent])
        result[name] = {
            "median_epochs": None if median == inf else median,
            "ratio_to_random": None if median == inf else round(median / random_median, 3),
            "per_seed": spent,
            "seeds_not_reached": sum(e is None for e in spent),
        }
    best_pruned = min(
        (result[n]["ratio_to_random"] for n in ("tpe+successive_halving", "tpe+hyperband") if result[n]["ratio_to_random"] is not None),
        default=None,
    )
    return {
        "objective": "stand-in curve (apps/worker/test/fixtures/standin-objective.mjs), optimum 1",
        "seeds": seeds,
        "trials": trials,
        "epochs_per_trial": epochs,
        "target": "within 1 % of the best objective of full-budget random search, same seed and trial budget",
        "strategies": result,
        "goal": "TPE + pruning needs <= 1/3 of random's epochs",
        "best_pruned_ratio": best_pruned,
        "goal_met": best_pruned is not None and best_pruned <= 1 / 3,
    }


def reference(url, study_name):
    """Same-run yardsticks for the bridge overhead: a bare SELECT 1 through psycopg2, and the bridge's
    TPE asking and telling on in-memory Optuna over a copy of the same study's trials (Optuna's own
    cost for these trials, with no storage behind it)."""
    import psycopg2
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = psycopg2.connect(host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database)
    select = []
    with conn.cursor() as cur:
        for _ in range(200):
            t = time.perf_counter()
            cur.execute("SELECT 1")
            cur.fetchone()
            select.append((time.perf_counter() - t) * 1000)
    conn.close()
    stored = optuna.load_study(study_name=study_name, storage=url).get_trials(deepcopy=False)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0, **TPE_OPTIONS))
    study.add_trials([t for t in stored if t.state.is_finished()])
    asktell = []
    for _ in range(100):
        t = time.perf_counter()
        trial = study.ask(SPACE)
        study.tell(trial, final(trial.params))
        asktell.append((time.perf_counter() - t) * 1000)
    return {
        "select1_ms_p50": round(pct(select, 50), 3),
        "inmemory_trials": len(study.trials) - 100,
        "inmemory_ask_tell_ms_p50": round(pct(asktell, 50), 2),
        "inmemory_ask_tell_ms_p99": round(pct(asktell, 99), 2),
    }


def fill(url, study_name, trials, seed=0):
    """Adds `trials` COMPLETE trials (params from SPACE, value and epoch-1 value from the stand-in
    curve) to an existing study in one transaction through Optuna's own RDB tables: the same rows
    Optuna writes, a second or two instead of one commit per row."""
    import random
    from datetime import datetime

    import sqlalchemy
    from optuna.distributions import distribution_to_json
    from optuna.storages._rdb import models
    from optuna.trial import TrialState

    storage = optuna.storages.RDBStorage(url)
    study_id = storage.get_study_id_from_name(study_name)
    rnd = random.Random(seed)
    now = datetime.now()
    with storage.engine.begin() as conn:
        count = sqlalchemy.select(sqlalchemy.func.count()).select_from(models.TrialModel.__table__).where(models.TrialModel.study_id == study_id)
        start = conn.execute(count).scalar()
        rows, params = [], {}
        for i in range(trials):
            p = {name: (10 ** rnd.uniform(-5, -1) if name == "lr0" else rnd.uniform(d.low, d.high)) for name, d in SPACE.items()}
            params[start + i] = p
            rows.append({"number": start + i, "study_id": study_id, "state": TrialState.COMPLETE, "datetime_start": now, "datetime_complete": now})
        ids = {}
        for at in range(0, len(rows), 500):
            returned = conn.execute(
                models.TrialModel.__table__.insert().values(rows[at : at + 500]).returning(models.TrialModel.trial_id, models.TrialModel.number)
            )
            ids.update({number: trial_id for trial_id, number in returned})
        param_rows, value_rows, step_rows = [], [], []
        for number, p in params.items():
            tid = ids[number]
            for name, d in SPACE.items():
                param_rows.append({"trial_id": tid, "param_name": name, "param_value": d.to_internal_repr(p[name]), "distribution_json": distribution_to_json(d)})
            value, value_type = models.TrialValueModel.value_to_stored_repr(curve(p, 27))
            value_rows.append({"trial_id": tid, "objective": 0, "value": value, "value_type": value_type})
            step, step_type = models.TrialIntermediateValueModel.intermediate_value_to_stored_repr(curve(p, 1))
            step_rows.append({"trial_id": tid, "step": 1, "intermediate_value": step, "intermediate_value_type": step_type})
        conn.execute(models.TrialParamModel.__table__.insert(), param_rows)
        conn.execute(models.TrialValueModel.__table__.insert(), value_rows)
        conn.execute(models.TrialIntermediateValueModel.__table__.insert(), step_rows)
    storage.engine.dispose()
    return {"filled": trials}


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "fill":
        print(json.dumps(fill(os.environ["WYOLO_OPTUNA_STORAGE"], sys.argv[2], int(sys.argv[3]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "reference":
        print(json.dumps(reference(os.environ["WYOLO_OPTUNA_STORAGE"], sys.argv[2])))
    else:
        seeds = int(os.environ.get("BENCH_SWEEP_SEEDS", "5"))
        trials = int(os.environ.get("BENCH_SWEEP_TRIALS", "60"))
        epochs = int(os.environ.get("BENCH_SWEEP_EPOCHS", "27"))
        print(json.dumps(strategies(seeds, trials, epochs)))
