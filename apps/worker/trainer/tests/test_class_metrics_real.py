"""finished.classes against the real Ultralytics metrics classes (not the stand-in): DetMetrics and
SegmentMetrics filled with known detections, read by train.class_metrics and checked against
Ultralytics' own per-class `summary()`; classify's confusion matrix as ClassificationValidator builds it.

Runs where a Python can import the real package: WYOLO_TEST_ULTRALYTICS names its source folder (e.g.
an 8.3.186 snapshot, see ../shared/FACTS.md) and WYOLO_TEST_PYTHON the Python with torch (default
/usr/bin/python3). It runs in a child process, since this suite puts the stand-in first on sys.path."""
import json
import os
import subprocess
from pathlib import Path

import pytest

ULTRALYTICS = os.environ.get("WYOLO_TEST_ULTRALYTICS")
PYTHON = os.environ.get("WYOLO_TEST_PYTHON", "/usr/bin/python3")
TRAINER = Path(__file__).resolve().parent.parent

SCRIPT = r'''
import json
from types import SimpleNamespace
import numpy as np
import torch
from ultralytics.utils.metrics import ConfusionMatrix, DetMetrics, SegmentMetrics
import train

names = {0: "circle", 1: "square", 2: "triangle", 3: "star"}
rng = np.random.default_rng(0)

def stats(kind):
    # circle: 6 instances in 3 images, all found with high confidence; triangle: 4 in 4 images, half found;
    # star: 2 instances never found, plus false positives; square: no validation instances at all.
    target_cls = np.array([0] * 6 + [2] * 4 + [3] * 2, dtype=float)
    n = 14
    pred_cls = np.array([0] * 6 + [2] * 4 + [3] * 4, dtype=float)
    conf = np.concatenate([rng.uniform(0.8, 0.99, 6), rng.uniform(0.3, 0.9, 4), rng.uniform(0.1, 0.3, 4)])
    tp = np.zeros((n, 10), dtype=bool)
    tp[:6] = True
    tp[6:8, :5] = True
    # target_img: the classes present in each of 6 images (np.unique per image), as DetectionValidator appends them.
    target_img = np.concatenate([np.array(img, dtype=float) for img in [[0], [0], [0, 2], [2], [2], [2, 3]]])
    s = {"tp": tp, "conf": conf, "pred_cls": pred_cls, "target_cls": target_cls, "target_img": target_img}
    if kind == "segment":
        tp_m = tp.copy()
        tp_m[6:8] = False
        s["tp_m"] = tp_m
    return s

result = {}
for kind, cls in (("detect", DetMetrics), ("segment", SegmentMetrics)):
    m = cls(names=names)
    m.update_stats(stats(kind))
    m.process()
    result[kind] = {"ours": train.class_metrics(SimpleNamespace(metrics=m)), "summary": m.summary(), "index": [int(c) for c in m.ap_class_index]}

cm = ConfusionMatrix(names=names)  # as ClassificationValidator.init_metrics makes it (task "detect": (nc+1)²)
preds = [torch.tensor([[0, 1], [0, 1], [1, 0], [2, 0], [0, 2], [2, 1]])]
targets = [torch.tensor([0, 0, 0, 2, 2, 2])]
cm.process_cls_preds(preds, targets)
validator = SimpleNamespace(metrics=SimpleNamespace(task="classify", confusion_matrix=cm), confusion_matrix=cm, names=names)
result["classify"] = {"ours": train.class_metrics(validator), "shape": list(cm.matrix.shape)}
print(json.dumps(result, default=float))
'''


@pytest.fixture(scope="module")
def real():
    if not ULTRALYTICS:
        pytest.skip("WYOLO_TEST_ULTRALYTICS (the real Ultralytics source folder) is not set")
    env = {**os.environ, "PYTHONPATH": f"{ULTRALYTICS}{os.pathsep}{TRAINER}", "YOLO_OFFLINE": "1", "YOLO_CONFIG_DIR": "/tmp"}
    out = subprocess.run([PYTHON, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["detect", "segment"])
def test_box_scores_and_counts_are_ultralytics_own_per_class_summary(real, kind):
    ours = {c["name"]: c for c in real[kind]["ours"]}
    summary = real[kind]["summary"]
    assert [s["Class"] for s in summary] == ["circle", "triangle", "star"]  # ap_class_index: classes with instances
    for s in summary:
        c = ours[s["Class"]]
        assert (c["images"], c["instances"]) == (s["Images"], s["Instances"])
        assert c["box"]["p"] == pytest.approx(s["Box-P"], abs=1e-5)
        assert c["box"]["r"] == pytest.approx(s["Box-R"], abs=1e-5)
        assert c["box"]["map50"] == pytest.approx(s["mAP50"], abs=1e-5)
        assert c["box"]["map50_95"] == pytest.approx(s["mAP50-95"], abs=1e-5)
        if kind == "segment":
            assert c["mask"]["p"] == pytest.approx(s["Mask-P"], abs=1e-5)
            assert c["mask"]["r"] == pytest.approx(s["Mask-R"], abs=1e-5)
    assert ours["circle"]["box"]["map50"] > 0.9 and ours["star"]["box"]["map50"] == 0
    # square has no validation instances: listed, with its zero counts and no scores.
    assert ours["square"] == {"id": 1, "name": "square", "images": 0, "instances": 0}
    if kind == "segment":
        assert ours["triangle"]["mask"]["map50"] < ours["triangle"]["box"]["map50"]


def test_classify_top1_per_class_from_the_real_confusion_matrix(real):
    assert real["classify"]["shape"] == [5, 5]  # nc + 1 in 8.3.186, only nc filled
    ours = {c["name"]: c for c in real["classify"]["ours"]}
    assert ours["circle"] == {"id": 0, "name": "circle", "images": 3, "top1": pytest.approx(2 / 3)}
    assert ours["triangle"]["top1"] == pytest.approx(2 / 3)
    assert ours["square"] == {"id": 1, "name": "square", "images": 0, "top1": None}
