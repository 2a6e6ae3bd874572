"""A small stand-in of the Ultralytics API for the trainer's unit tests (never installed).

It replays the callback order and the quirks seen with Ultralytics 8.3.186 on CPU
(../shared/FACTS.md): per epoch on_train_epoch_end (with the previous epoch's metrics still in
trainer.metrics) → on_model_save → on_fit_epoch_end; on_fit_epoch_end fires a second time at the
end for the final validation of best.pt (without val/* losses); trainer.epoch counts from 0;
results.csv from 1; `trainer.stop = True` in a callback ends training at that epoch boundary;
`self.stop` for the last epoch or an early stop is set before on_model_save; results.csv has a
`time` column, seconds since this attempt's `train_time_start` (a resume restarts it); the final
evaluation strips last.pt (epoch -1, no optimizer) however the run ended, a stop included, and
resuming such a checkpoint raises AssertionError "... nothing to resume".
The validator (trainer.validator) holds the last validation's per-class results as 8.3.186's do:
DetMetrics-like (ap_class_index, class_result(i) by position, nt_per_class/nt_per_image by class id;
segment/pose add mask/pose scores) or, for classify, a confusion matrix matrix[pred][true] of
(nc+1)² with nc filled; knob `val_classes` (class ids with validation instances, default [0, 2]).
Time is a fake clock: epoch n takes `epoch_seconds[n]` (knob, a map) or 0.5 s.
Behaviour knobs come from the STANDIN environment variable (JSON).
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from types import SimpleNamespace

__version__ = "8.3.186-standin"
calls: list[dict] = []
clock = [1000.0]  # the stand-in's time.time()


def _knobs() -> dict:
    return json.loads(os.environ.get("STANDIN", "{}"))


class _Metric(SimpleNamespace):
    def class_result(self, i: int) -> list[float]:
        return [*self.rows[i]]


class _Validator:
    """The last validation's results, replaced at every validation (an epoch's, then best.pt's)."""

    def __init__(self, task: str, names: dict[int, str]):
        self.task, self.names = task, names
        self.metrics = None
        self.confusion_matrix = None

    def __call__(self, final: bool) -> None:
        present = _knobs().get("val_classes", [0, 2])
        scale = 1.0 if final else 0.5  # best.pt's validation scores differ from the last epoch's
        if self.task == "classify":
            nc = len(self.names)
            matrix = [[0.0] * (nc + 1) for _ in range(nc + 1)]
            for c in present:  # 4 images per present class, (c+1) of them right, the rest called class 0 (or 1)
                right = min(4, c + 1)
                matrix[c][c] += right
                matrix[1 if c == 0 else 0][c] += 4 - right
            self.confusion_matrix = SimpleNamespace(matrix=matrix, names=self.names)
            self.metrics = SimpleNamespace(task="classify", top1=0.5, top5=1.0, confusion_matrix=self.confusion_matrix)
            return
        width = 8 if self.task in ("segment", "pose") else 4
        rows = [[round(scale * (0.1 * (c + 1) + 0.01 * k), 4) for k in range(width)] for c in present]
        self.metrics = _Metric(
            task=self.task,
            names=self.names,
            ap_class_index=list(present),
            rows=rows,
            nt_per_class=[(3 * (c + 1) if c in present else 0) for c in range(len(self.names))],
            nt_per_image=[(2 * (c + 1) if c in present else 0) for c in range(len(self.names))],
        )


class _Trainer:
    def __init__(self, args: dict, callbacks: dict, start_epoch: int = 0, task: str | None = None):
        self.args = SimpleNamespace(**args)
        self.callbacks = callbacks
        self.epochs = int(args.get("epochs", 100))
        self.start_epoch = start_epoch
        self.epoch = start_epoch
        self.batch_size = args.get("batch", 16)
        self.device = "cuda:0" if _knobs().get("gpu") else "cpu"
        # Like Ultralytics: a save_dir in the (checkpoint's) args wins over project/name.
        self.save_dir = Path(args["save_dir"]) if args.get("save_dir") else Path(args["project"]) / args["name"]
        self.train_args = {**args, "save_dir": str(self.save_dir)}
        self.wdir = self.save_dir / "weights"
        self.wdir.mkdir(parents=True, exist_ok=True)
        self.last, self.best = self.wdir / "last.pt", self.wdir / "best.pt"
        self.csv = self.save_dir / "results.csv"
        self.metrics = {"metrics/mAP50-95(B)": 0.0, "val/box_loss": 0.0}
        self.fitness = None
        self.best_fitness = None
        self.tloss = None
        self.lr = {}
        self.stop = False
        self.epoch_time = None
        self.data = {"train": _knobs().get("train", "images/train"), "val": "images/val", "nc": 3, "names": {0: "circle", 1: "square", 2: "triangle"}}
        self.stopper = SimpleNamespace(best_epoch=0, possible_stop=False)
        self.train_time_start = None
        self.validator = _Validator(task or "detect", self.data["names"])

    def run(self, name: str) -> None:
        for cb in self.callbacks.get(name, []):
            cb(self)

    def label_loss_items(self, loss_items=None, prefix="train"):
        return {f"{prefix}/box_loss": loss_items[0], f"{prefix}/cls_loss": loss_items[1]}

    def train(self) -> None:
        knobs = _knobs()
        self.run("on_pretrain_routine_start")
        if knobs.get("raise_before_start"):
            raise _exception(knobs["raise_before_start"])
        if self.batch_size == -1 or 0 < self.batch_size < 1:
            # As BaseTrainer._setup_train: AutoBatch on the model, on the job's device.
            from ultralytics.utils.autobatch import check_train_batch_size

            import torch

            model = SimpleNamespace(parameters=lambda: iter([SimpleNamespace(device=torch.device(self.device))]))
            self.batch_size = check_train_batch_size(model, int(self.args.imgsz if hasattr(self.args, "imgsz") else 640), True, self.batch_size)
        clock[0] += 7.0  # setup (dataloaders, model) before the clock starts
        self.train_time_start = clock[0]
        self.run("on_train_start")
        epoch = self.start_epoch
        while epoch < self.epochs:
            self.epoch = epoch
            n = epoch + 1
            if knobs.get("raise_in_epoch") == n:
                raise _exception(knobs.get("raise", "RuntimeError:boom"))
            self.tloss = (1.0 / n, 2.0 / n)
            self.lr = {"lr/pg0": 0.01 / n, "lr/pg1": 0.01 / n}
            self.run("on_train_epoch_end")  # metrics still the previous epoch's here
            seconds = float(knobs.get("epoch_seconds", {}).get(str(n), 0.5))
            clock[0] += seconds
            self.metrics = {"metrics/mAP50(B)": 0.1 * n, "metrics/mAP50-95(B)": 0.05 * n, "val/box_loss": 3.0 / n}
            self.validator(final=False)
            self.fitness = float(knobs["fitness"][n - 1]) if knobs.get("fitness") else 0.05 * n
            # BaseTrainer.validate, then save_model: best.pt only when best_fitness == fitness (a tie replaces it).
            if not self.best_fitness or self.best_fitness < self.fitness:
                self.best_fitness = self.fitness
            self.stopper.best_epoch = n
            self._write_csv(n)
            # As in BaseTrainer._do_train: stop for the last epoch / early stop, then save, then the callbacks.
            self.stop = self.stop or n >= self.epochs or knobs.get("early_stop_at") == n
            if knobs.get("early_stop_at") == n:
                self.stopper.possible_stop = True
            self.last.write_text(json.dumps({"epoch": epoch, "optimizer": "state", "train_args": self.train_args}))
            if self.best_fitness == self.fitness:
                self.best.write_text(json.dumps({"epoch": n}))
            self.run("on_model_save")
            self.epoch_time = seconds
            self.run("on_fit_epoch_end")
            if self.stop:
                break
            epoch += 1
        # Final validation of best.pt: on_fit_epoch_end again, same epoch, no val/* losses.
        self.metrics = {"metrics/mAP50(B)": 0.99, "metrics/mAP50-95(B)": 0.77}
        self.validator(final=True)
        self.run("on_fit_epoch_end")
        # Stripped (strip_optimizer): a finished run as far as a resume can tell; save_dir is not a cfg key.
        stripped_args = {k: v for k, v in self.train_args.items() if k != "save_dir"}
        self.last.write_text(json.dumps({"epoch": -1, "optimizer": None, "train_args": stripped_args}))
        self.run("on_train_end")

    def _write_csv(self, n: int) -> None:
        fields = ["epoch", "time", "train/box_loss", "metrics/mAP50-95(B)", "val/box_loss", "lr/pg0"]
        new = not self.csv.exists()
        with self.csv.open("a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(fields)
            w.writerow([n, round(clock[0] - self.train_time_start, 3), 1.0 / n, 0.05 * n, 3.0 / n, 0.01 / n])


def _exception(spec: str) -> BaseException:
    kind, _, message = spec.partition(":")
    return {"RuntimeError": RuntimeError, "FileNotFoundError": FileNotFoundError, "SyntaxError": SyntaxError, "KeyboardInterrupt": KeyboardInterrupt}[kind](message)


class YOLO:
    def __init__(self, model: str, task: str | None = None):
        self.model, self.task = model, task
        self.callbacks: dict[str, list] = {}
        self.trainer: _Trainer | None = None

    def add_callback(self, event: str, fn) -> None:
        self.callbacks.setdefault(event, []).append(fn)

    def train(self, **kwargs):
        calls.append({"cls": type(self).__name__, "model": self.model, "task": self.task, **kwargs})
        resume = kwargs.get("resume")
        if resume:
            state = json.loads(Path(resume).read_text())
            if state["epoch"] + 1 <= 0:
                raise AssertionError(f"{resume} training to N epochs is finished, nothing to resume.")
            # The run continues where the checkpoint's own args say (its save_dir).
            self.trainer = _Trainer(state["train_args"], self.callbacks, start_epoch=state["epoch"] + 1, task=self.task)
        else:
            args = {**kwargs, "model": self.model}
            (Path(args["project"]) / args["name"]).mkdir(parents=True, exist_ok=True)
            (Path(args["project"]) / args["name"] / "args.json").write_text(json.dumps(args))
            self.trainer = _Trainer(args, self.callbacks, task=self.task)
        self.trainer.train()
        return self.trainer.metrics


    # Like Ultralytics' Model.export: writes next to the weights and returns the output's path,
    # a file (".onnx", ".torchscript") or a directory ("_openvino_model"); an argument the format
    # does not take raises AssertionError, as its validate_args does.
    SUFFIX = {"torchscript": ".torchscript", "onnx": ".onnx", "openvino": "_openvino_model"}
    ARGS = {"torchscript": {"batch", "half", "dynamic"}, "onnx": {"batch", "dynamic", "half", "opset", "simplify"}, "openvino": {"batch", "dynamic", "half", "int8"}}

    def export(self, **kwargs):
        calls.append({"cls": type(self).__name__, "model": self.model, "export": True, **kwargs})
        fmt = kwargs["format"]
        for arg in ("half", "int8", "dynamic", "batch"):
            if kwargs.get(arg) and arg not in self.ARGS[fmt]:
                raise AssertionError(f"ERROR ❌️ argument '{arg}' is not supported for format='{fmt}'")
        out = Path(self.model).with_name(Path(self.model).stem + self.SUFFIX[fmt])
        if out.suffix:
            out.write_text(f"{fmt} export")
        else:
            out.mkdir()
            (out / "model.xml").write_text("<net/>")
            (out / "model.bin").write_bytes(b"\0" * 16)
        return str(out)


class RTDETR(YOLO):
    def __init__(self, model: str):
        super().__init__(model, task="detect")
