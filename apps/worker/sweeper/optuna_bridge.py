#!/usr/bin/env python3
"""Optuna for the worker: a long-lived child speaking JSON lines (docs: the sweep design, "Optuna bridge protocol").

One request per line on stdin ({"id", "op", ...}), one answer per line on stdout, in order; logs and
Optuna's own warnings go to stderr. Studies live in RDB storage (env WYOLO_OPTUNA_STORAGE, a
SQLAlchemy URL), so every worker process asks, reports to and tells the same study. Runs on
Optuna 3.1 (Debian) and 4.x/5.x (pip; the pytest suite also ran on 5.0.0). A few private parts of
Optuna's cached RDB storage are used for speed, each behind a check that falls back to Optuna's own path.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import json
import logging
import math
import os
import sys
import warnings
from typing import Any, Dict, Optional, Tuple

# Answers need a stdout of their own: anything a library prints goes to stderr instead.
_ANSWERS = sys.stdout
sys.stdout = sys.stderr

import optuna  # noqa: E402
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

log = logging.getLogger("optuna_bridge")
logging.basicConfig(stream=sys.stderr, level=os.environ.get("OPTUNA_BRIDGE_LOG_LEVEL", "WARNING").upper())
optuna.logging.disable_default_handler()
optuna.logging.enable_propagation()
optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.simplefilter("ignore", category=optuna.exceptions.ExperimentalWarning)

SAMPLERS = ["TPESampler", "RandomSampler", "CmaEsSampler", "GridSampler", "QMCSampler"]
PRUNERS = ["median", "successive_halving", "hyperband", "none"]
DIRECTIONS = ["maximize", "minimize"]
STATES = {"COMPLETE": TrialState.COMPLETE, "PRUNED": TrialState.PRUNED, "FAIL": TrialState.FAIL}
MAX_GRID = 100_000
# Samplers whose draws happen at suggest time: reseeded per trial number, so two workers with the
# same seed never draw the same point and a sweep stays reproducible whichever worker asks.
PER_TRIAL_SEED = {"TPESampler", "RandomSampler"}


class BridgeError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def invalid(message: str) -> BridgeError:
    return BridgeError("INVALID", message)


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def usable_samplers() -> list:
    return [s for s in SAMPLERS if s != "CmaEsSampler" or has_module("cmaes")]


# ---------- input checks ----------


def number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise invalid(f"{what} must be a finite number")
    return float(value)


def integer(value: Any, what: str, minimum: Optional[int] = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{what} must be an integer")
    if minimum is not None and value < minimum:
        raise invalid(f"{what} must be at least {minimum}")
    return value


def distribution(name: str, p: Any):
    if not isinstance(p, dict):
        raise invalid(f"space.{name} must be an object")
    kind = p.get("type")
    try:
        if kind == "float":
            step = p.get("step")
            return FloatDistribution(
                number(p.get("low"), f"space.{name}.low"),
                number(p.get("high"), f"space.{name}.high"),
                log=bool(p.get("log", False)),
                step=None if step is None else number(step, f"space.{name}.step"),
            )
        if kind == "int":
            return IntDistribution(
                integer(p.get("low"), f"space.{name}.low"),
                integer(p.get("high"), f"space.{name}.high"),
                log=bool(p.get("log", False)),
                step=integer(p.get("step", 1), f"space.{name}.step", 1),
            )
        if kind == "categorical":
            choices = p.get("choices")
            if not isinstance(choices, list) or not choices:
                raise invalid(f"space.{name}.choices must be a non-empty list")
            for c in choices:
                if c is not None and not isinstance(c, (str, int, float, bool)):
                    raise invalid(f"space.{name}.choices may hold only strings, numbers, booleans or null")
            return CategoricalDistribution(choices)
    except ValueError as e:  # Optuna's own checks: low > high, log with step, log with low <= 0
        raise invalid(f"space.{name}: {e}") from e
    raise invalid(f"space.{name}.type must be float, int or categorical")


def parse_spec(spec: Any) -> Dict[str, Any]:
    if not isinstance(spec, dict):
        raise invalid("`study` must be an object")
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 512:
        raise invalid("study.name must be a non-empty string")
    if spec.get("direction") not in DIRECTIONS:
        raise invalid(f"study.direction must be one of {DIRECTIONS}")
    sampler = spec.get("sampler")
    if sampler not in SAMPLERS:
        raise invalid(f"study.sampler must be one of {SAMPLERS}")
    if sampler == "CmaEsSampler" and not has_module("cmaes"):
        raise invalid("CmaEsSampler needs the Python package `cmaes`, which this worker lacks (pip install cmaes)")
    pruner = spec.get("pruner", "none")
    if pruner not in PRUNERS:
        raise invalid(f"study.pruner must be one of {PRUNERS}")
    seed = spec.get("seed")
    if seed is not None:
        seed = integer(seed, "study.seed", 0)
    grace = integer(spec.get("grace_period", 1), "study.grace_period", 1)
    max_epochs = integer(spec.get("max_epochs", grace), "study.max_epochs", 1)
    space = spec.get("space")
    if not isinstance(space, dict) or not space:
        raise invalid("study.space must be a non-empty object")
    dists = {str(k): distribution(str(k), v) for k, v in space.items()}
    grid = grid_space(dists) if sampler == "GridSampler" else None
    return {
        "name": name,
        "direction": spec["direction"],
        "sampler": sampler,
        "seed": seed,
        "pruner": pruner,
        "grace_period": grace,
        "max_epochs": max(max_epochs, grace),
        "dists": dists,
        "grid": grid,
        "key": json.dumps(spec, sort_keys=True, default=str),
    }


def grid_space(dists: Dict[str, Any]) -> Dict[str, list]:
    grid: Dict[str, list] = {}
    size = 1
    for name, d in dists.items():
        if isinstance(d, CategoricalDistribution):
            grid[name] = list(d.choices)
        elif isinstance(d, IntDistribution):
            grid[name] = list(range(d.low, d.high + 1, d.step))
        else:
            raise invalid(f"GridSampler needs categorical or stepped int params (`{name}` is a float)")
        size *= len(grid[name])
    if size > MAX_GRID:
        raise invalid(f"GridSampler: the grid has {size} points, more than {MAX_GRID}")
    return grid


# ---------- samplers, pruners ----------


# Multivariate TPE samples all parameters at once from one read of the trial list (the independent
# kind reads it again per parameter), and models their interactions; the constant liar counts
# running trials as bad so parallel trials don't all land on the same point. Both exist in 3.1 and 4.x.
TPE_OPTIONS = {"multivariate": True, "constant_liar": True}


def make_sampler(spec: Dict[str, Any], seed: Optional[int]):
    kind = spec["sampler"]
    if kind == "TPESampler":
        return optuna.samplers.TPESampler(seed=seed, **TPE_OPTIONS)
    if kind == "RandomSampler":
        return optuna.samplers.RandomSampler(seed=seed)
    if kind == "CmaEsSampler":
        return optuna.samplers.CmaEsSampler(seed=seed)
    if kind == "GridSampler":
        return optuna.samplers.GridSampler(spec["grid"], seed=seed)
    return optuna.samplers.QMCSampler(seed=seed)


def trial_seed(seed: Optional[int], number: int) -> Optional[int]:
    return None if seed is None else (seed * 1_000_003 + number * 7_919) % (2**31 - 1)


class PerTrialSeed(optuna.samplers.BaseSampler):
    """Draws each trial with a sampler seeded by the trial's number (see PER_TRIAL_SEED). The
    number is known once Optuna has created the trial, before it samples: every hook gets it."""

    def __init__(self, spec: Dict[str, Any]) -> None:
        self._spec = spec
        self._number: Optional[int] = None
        self._inner = make_sampler(spec, spec["seed"])

    def _for(self, trial):
        if trial.number != self._number:
            self._number = trial.number
            inner = make_sampler(self._spec, trial_seed(self._spec["seed"], trial.number))
            # TPE's intersection search space is computed incrementally over the study's trials;
            # a new sampler would recompute it from all of them (same study, so it carries over).
            if hasattr(self._inner, "_search_space") and hasattr(inner, "_search_space"):
                inner._search_space = self._inner._search_space
            self._inner = inner
        return self._inner

    def before_trial(self, study, trial) -> None:  # Optuna 4.x calls it; 3.1 has no such hook
        hook = getattr(self._for(trial), "before_trial", None)
        if hook is not None:
            hook(study, trial)

    def infer_relative_search_space(self, study, trial):
        return self._for(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._for(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._for(trial).sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study, trial, state, values) -> None:
        self._for(trial).after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._inner.reseed_rng()


def make_pruner(spec: Dict[str, Any]):
    grace = spec["grace_period"]
    kind = spec["pruner"]
    # Steps are 1-based epochs: a pruner may stop a trial once it has run `grace_period` epochs
    # (MedianPruner skips steps < n_warmup_steps; the halving pruners' first rung is at min_resource).
    if kind == "median":
        # The median of fewer than 3 finished curves is noise.
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=grace)
    if kind == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=grace, reduction_factor=3)
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=grace, max_resource=spec["max_epochs"], reduction_factor=3)
    return optuna.pruners.NopPruner()


# ---------- storage and studies ----------


def is_storage_error(e: BaseException) -> bool:
    import sqlalchemy.exc as sa_exc

    try:
        import psycopg2
    except ImportError:  # pragma: no cover
        psycopg2 = None
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)):
            return True
        if psycopg2 is not None and isinstance(e, (psycopg2.OperationalError, psycopg2.InterfaceError)):
            return True
        if isinstance(e, (ConnectionError, TimeoutError)):
            return True
        e = e.__cause__ or e.__context__
    return False


class Bridge:
    def __init__(self, url: Optional[str]) -> None:
        self.url = url
        self.storage = None  # optuna's cached wrapper around RDBStorage
        # name -> (spec key, study that samples, study that reports and tells)
        self.studies: Dict[str, Tuple[str, Any, Any]] = {}
        self.created = False  # whether the last study() call created the study

    # The first process to reach a fresh database creates schema and tables; the others wait on
    # an advisory lock instead of racing CREATE TABLE.
    def _prepare_database(self) -> None:
        import psycopg2
        from sqlalchemy.engine import make_url

        url = make_url(self.url)
        args = {"host": url.host, "port": url.port, "user": url.username, "password": url.password, "dbname": url.database}
        args = {k: v for k, v in args.items() if v is not None}
        args.update({k: v for k, v in url.query.items() if isinstance(v, str)})
        args.setdefault("connect_timeout", 5)
        schema = "optuna"
        for part in str(args.get("options", "")).split():
            if part.startswith("-csearch_path="):
                schema = part.split("=", 1)[1].split(",")[0].strip() or schema
        conn = psycopg2.connect(**args)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_lock(hashtext('wyolo-optuna-schema'))")
                cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                self._open_storage()
                cur.execute("SELECT pg_advisory_unlock(hashtext('wyolo-optuna-schema'))")
        finally:
            conn.close()

    def _open_storage(self) -> None:
        engine_kwargs = {"pool_pre_ping": True, "connect_args": {"connect_timeout": 5}}
        rdb = optuna.storages.RDBStorage(self.url, engine_kwargs=engine_kwargs)
        self.storage = optuna.storages.get_storage(rdb)

    def get_storage(self):
        if self.storage is None:
            if not self.url:
                raise BridgeError("STORAGE_UNAVAILABLE", "WYOLO_OPTUNA_STORAGE is not set")
            if self.url.startswith("postgresql"):
                self._prepare_database()
            else:
                self._open_storage()
        return self.storage

    def drop_storage(self) -> None:
        storage, self.storage = self.storage, None
        self.studies.clear()
        try:
            engine = getattr(getattr(storage, "_backend", storage), "engine", None)
            if engine is not None:
                engine.dispose()
        except Exception:  # pragma: no cover - best effort on a dead connection
            pass

    def study(self, spec: Dict[str, Any], create: bool):
        cached = self.studies.get(spec["name"])
        if cached and cached[0] == spec["key"]:
            return cached[1], cached[2]
        storage = self.get_storage()
        direction = optuna.study.StudyDirection.MAXIMIZE if spec["direction"] == "maximize" else optuna.study.StudyDirection.MINIMIZE
        try:
            study_id = storage.get_study_id_from_name(spec["name"])
        except KeyError:
            if not create:
                raise BridgeError("NOT_FOUND", f"no study named {spec['name']}")
            try:
                storage.create_new_study([direction], spec["name"])
                self.created = True
            except optuna.exceptions.DuplicatedStudyError:
                pass  # another worker created it first
            study_id = storage.get_study_id_from_name(spec["name"])
        existing = storage.get_study_directions(study_id)
        if list(existing) != [direction]:
            raise invalid(f"study {spec['name']} exists with direction {existing[0].name.lower()}")
        # Reporting and telling need only the pruner; a sampler there would run its hooks on a
        # trial another process asked (GridSampler's after_trial even stops the study).
        per_trial = spec["sampler"] in PER_TRIAL_SEED and spec["seed"] is not None
        sampler = PerTrialSeed(spec) if per_trial else make_sampler(spec, spec["seed"])
        sampling = optuna.Study(spec["name"], storage, sampler=sampler, pruner=make_pruner(spec))
        telling = optuna.Study(spec["name"], storage, sampler=optuna.samplers.RandomSampler(), pruner=make_pruner(spec))
        self.studies[spec["name"]] = (spec["key"], sampling, telling)
        return sampling, telling

    @contextlib.contextmanager
    def one_read(self):
        """Within one op, the study's trial list is read from the database once: study.ask, the
        sampler and the pruner each ask Optuna's cached storage to sync (three reads per ask, two
        per report; in 3.1 each fetches every trial id, in 4.x each re-reads every running trial),
        and a second sync milliseconds later would only add what other processes did meanwhile,
        which the next op sees anyway."""
        storage = self.storage
        # 3.1: study.get_trials calls the public method; 4.x and later: get_all_trials, the private one.
        name = next((n for n in ("read_trials_from_remote_storage", "_read_trials_from_remote_storage") if hasattr(storage, n)), None)
        if name is None:
            yield
            return
        sync = getattr(storage, name)
        synced = set()

        def sync_once(study_id):
            if study_id not in synced:
                synced.add(study_id)
                sync(study_id)

        setattr(storage, name, sync_once)
        try:
            yield
        finally:
            delattr(storage, name)

    @contextlib.contextmanager
    def params_in_one_transaction(self, study):
        """Optuna's cached storage writes each sampled parameter of a new trial in a transaction of
        its own (2 to 5 statements and a commit per parameter). Where it has already checked the
        parameter's distribution against the study's (3.1: in its cache, for a trial it owns; 4.x
        and later: it hands the backend the cached distribution), the rows go in one multi-row
        INSERT into Optuna's table once the trial is sampled; otherwise Optuna writes as usual."""
        backend = getattr(self.storage, "_backend", None)
        engine = getattr(backend, "engine", None)
        try:
            from optuna.storages._rdb.models import TrialParamModel
        except ImportError:  # pragma: no cover - another Optuna layout
            TrialParamModel = None
        owned = self._owned(study)
        if owned is not None:  # 3.1
            name = "set_trial_param"
        else:  # 4.x, 5.x: _set_trial_param(trial_id, name, value, distribution, previous_distribution)
            name = "_set_trial_param"
        write = getattr(backend, name, None)
        if engine is None or TrialParamModel is None or write is None:
            yield
            return
        pending = []

        def defer(trial_id, param, internal, dist, previous=None):
            if owned is not None and trial_id not in owned:
                return write(trial_id, param, internal, dist)  # not checked by the cache
            if owned is None:
                if previous is None:
                    return write(trial_id, param, internal, dist, previous)  # checked in the database
                optuna.distributions.check_distribution_compatibility(previous, dist)
            json_dist = optuna.distributions.distribution_to_json(dist)
            pending.append({"trial_id": trial_id, "param_name": param, "param_value": internal, "distribution_json": json_dist})

        setattr(backend, name, defer)
        try:
            yield
        finally:
            delattr(backend, name)
            if pending:
                with engine.begin() as conn:
                    conn.execute(TrialParamModel.__table__.insert(), pending)

    def _owned(self, study):
        """Optuna 3.1's cached storage never re-reads a trial it counts as owned (asked here) or
        finished; None where the storage has no such set (other versions: every read goes to the database)."""
        info = getattr(self.storage, "_studies", {}).get(study._study_id)
        return getattr(info, "owned_or_finished_trial_ids", None)

    def release(self, study, trial_id: int) -> None:
        """Other processes report and tell the trials this one asks, so they must be re-read."""
        owned = self._owned(study)
        if owned is not None:
            owned.discard(trial_id)

    def find_trial(self, study, number: int):
        trials = study.get_trials(deepcopy=False)
        # Numbers run 0, 1, 2, ... in a study; the search is for safety.
        if number < len(trials) and trials[number].number == number:
            return trials[number]
        for t in trials:
            if t.number == number:
                return t
        raise BridgeError("NOT_FOUND", f"no trial {number} in study {study.study_name}")

    def reread_state(self, study, trial_id: int):
        self.release(study, trial_id)
        return study._storage.get_trial(trial_id).state

    def trial_id(self, study, number: int) -> int:
        try:
            return study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
        except KeyError:
            raise BridgeError("NOT_FOUND", f"no trial {number} in study {study.study_name}")

    # ---------- ops ----------

    def op_hello(self, req):
        return {"optuna": optuna.__version__, "samplers": usable_samplers(), "importance": has_module("sklearn")}

    def op_ensure_study(self, req):
        spec = parse_spec(req.get("study"))
        self.created = False
        self.study(spec, create=True)
        return {"created": self.created}

    def op_ask(self, req):
        spec = parse_spec(req.get("study"))
        count = integer(req.get("count", 1), "count", 0)
        if count > 1000:
            raise invalid("count must be at most 1000")
        study, _ = self.study(spec, create=True)
        out = []
        for _ in range(count):
            with self.one_read(), self.params_in_one_transaction(study):
                trial = study.ask(fixed_distributions=spec["dists"])
            self.release(study, trial._trial_id)
            out.append({"number": trial.number, "params": dict(trial.params)})
        return {"trials": out}

    def op_report(self, req):
        spec = parse_spec(req.get("study"))
        num = integer(req.get("number"), "number", 0)
        step = integer(req.get("step"), "step", 0)
        value = number(req.get("value"), "value")
        _, study = self.study(spec, create=False)
        tid = self.trial_id(study, num)
        with self.one_read():
            return self.report(study, tid, num, step, value)

    def report(self, study, tid: int, num: int, step: int, value: float):
        # One read of the study's trials (Optuna's cached storage fetches only the unfinished ones)
        # gives this trial's state and what the pruner compares it with. Counted as owned for the
        # rest of the op, the cached storage keeps its copy of the trial up to date as we write.
        frozen = self.find_trial(study, num)
        if frozen.state.is_finished():
            return {"prune": False, "finished": True}
        owned = self._owned(study)
        if owned is not None:
            owned.add(tid)
        try:
            if step not in frozen.intermediate_values:
                try:
                    study._storage.set_trial_intermediate_value(tid, step, value)
                except RuntimeError:  # told by another process since the read
                    if self.reread_state(study, tid).is_finished():
                        return {"prune": False, "finished": True}
                    raise
                if owned is None:  # the cached storage updated its own copy otherwise
                    frozen = copy.copy(frozen)
                    frozen.intermediate_values = {**frozen.intermediate_values, step: value}
            return {"prune": bool(study.pruner.prune(study, frozen)), "finished": False}
        finally:
            self.release(study, tid)

    def op_tell(self, req):
        spec = parse_spec(req.get("study"))
        num = integer(req.get("number"), "number", 0)
        state_name = req.get("state")
        if state_name not in STATES:
            raise invalid(f"state must be one of {list(STATES)}")
        value = req.get("value")
        if state_name == "COMPLETE":
            value = number(value, "value (needed for COMPLETE)")
        _, study = self.study(spec, create=False)
        tid = self.trial_id(study, num)
        # What study.tell(skip_if_finished=True) does for this study, minus its reads of the whole
        # trial before and after: the telling study's sampler has no after_trial to run, and the
        # storage refuses a finished trial under a row lock, which then answers its state.
        # PRUNED keeps the last reported value (as Optuna's tell does); FAIL has none.
        state = STATES[state_name]
        values = None
        if state_name == "COMPLETE":
            values = [value]
        elif state_name == "PRUNED":
            frozen = study._storage.get_trial(tid)
            if frozen.state.is_finished():
                return {"state": frozen.state.name}
            if frozen.last_step is not None:
                values = [float(frozen.intermediate_values[frozen.last_step])]
        try:
            study._storage.set_trial_state_values(tid, state, values)
        except RuntimeError:
            told = self.reread_state(study, tid)
            if not told.is_finished():
                raise
            return {"state": told.name}
        return {"state": state_name}

    def op_trials(self, req):
        spec = parse_spec(req.get("study"))
        _, study = self.study(spec, create=False)
        trials = []
        for t in study.get_trials(deepcopy=False):
            trials.append(
                {
                    "number": t.number,
                    "state": t.state.name,
                    "params": dict(t.params),
                    "value": t.values[0] if t.values else None,
                    "intermediate": {str(k): v for k, v in sorted(t.intermediate_values.items())},
                }
            )
        return {"trials": trials}

    def op_importances(self, req):
        spec = parse_spec(req.get("study"))
        _, study = self.study(spec, create=False)
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if len(complete) < 2:
            return {"importances": None, "reason": "needs at least 2 complete trials"}
        varied = [name for name in spec["dists"] if len({json.dumps(t.params.get(name), default=str) for t in complete}) > 1]
        if not varied:
            return {"importances": None, "reason": "no parameter varies over the complete trials"}
        evaluator = None
        if has_module("sklearn"):
            evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
        elif hasattr(optuna.importance, "PedAnovaImportanceEvaluator"):
            evaluator = optuna.importance.PedAnovaImportanceEvaluator()
        else:
            return {"importances": None, "reason": "needs scikit-learn (apt-get install python3-sklearn or pip install scikit-learn)"}
        try:
            raw = optuna.importance.get_param_importances(study, evaluator=evaluator, params=varied)
        except (ValueError, RuntimeError) as e:
            return {"importances": None, "reason": str(e)}
        total = sum(v for v in raw.values() if math.isfinite(v))
        shares = {k: (float(v) / total if total > 0 else 0.0) for k, v in raw.items()}
        return {"importances": shares}

    def handle(self, line: str) -> Dict[str, Any]:
        rid = None
        try:
            try:
                req = json.loads(line)
            except ValueError as e:
                raise invalid(f"not JSON: {e}")
            if not isinstance(req, dict):
                raise invalid("a request must be a JSON object")
            rid = req.get("id")
            fn = getattr(self, f"op_{req.get('op')}", None) if isinstance(req.get("op"), str) else None
            if fn is None:
                raise invalid(f"unknown op {req.get('op')!r}")
            return {"id": rid, "ok": True, "result": fn(req)}
        except BridgeError as e:
            return {"id": rid, "ok": False, "error": {"code": e.code, "message": str(e)}}
        except Exception as e:  # noqa: BLE001 - every line gets an answer
            if is_storage_error(e):
                log.warning("storage unavailable: %s", e)
                self.drop_storage()
                return {"id": rid, "ok": False, "error": {"code": "STORAGE_UNAVAILABLE", "message": first_line(e)}}
            log.exception("op failed")
            return {"id": rid, "ok": False, "error": {"code": "INTERNAL", "message": f"{type(e).__name__}: {first_line(e)}"}}


def first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:500] if text else type(e).__name__


def main() -> int:
    bridge = Bridge(os.environ.get("WYOLO_OPTUNA_STORAGE"))
    for line in sys.stdin:
        if not line.strip():
            continue
        answer = bridge.handle(line)
        try:
            text = json.dumps(answer, allow_nan=False, default=str)
        except ValueError:  # a NaN or infinity somewhere in the result: JSON cannot carry it
            error = {"code": "INTERNAL", "message": "the answer holds a non-finite number"}
            text = json.dumps({"id": answer.get("id"), "ok": False, "error": error}, default=str)
        _ANSWERS.write(text + "\n")
        _ANSWERS.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
