"""The validator on generated datasets of every task: each planted defect is reported at its file
and line, nothing else is reported as an error, and a clean set passes with its statistics."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import dataset_factory as factory
from validate_dataset import REPORT_ISSUES_PER_CODE, validate

TASKS = ["detect", "segment", "pose", "obb", "classify"]
VALIDATOR = Path(__file__).parent.parent / "validate_dataset.py"


def found(doc: dict, code: str, file: str, line: int | None = None) -> list[dict]:
    return [i for i in doc["report"]["issues"] if i["code"] == code and i.get("file") == file and i.get("line") == line]


@pytest.mark.parametrize("task", TASKS)
def test_each_planted_defect_is_reported_at_its_file_and_line(tmp_path: Path, task: str) -> None:
    expected = factory.make(tmp_path, task, defects=factory.DEFECTS[task])
    doc = validate(str(tmp_path), procs=1)
    assert doc["task"] == task
    assert doc["report"]["ok"] is False
    for exp in expected["issues"]:
        hits = found(doc, exp["code"], exp["file"], exp["line"])
        assert hits, f"{exp} not reported; got {doc['report']['issues']}"
        assert hits[0]["severity"] == exp["severity"], hits
    # Nothing else is an error, and each code is counted once (one defect each).
    planted = {(e["code"], e["file"], e["line"]) for e in expected["issues"]}
    extra = [i for i in doc["report"]["issues"] if (i["code"], i.get("file"), i.get("line")) not in planted and i["severity"] == "error"]
    assert extra == []
    for exp in expected["issues"]:
        assert doc["report"]["counts"][exp["code"]] == 1
    # The items carry the errors: the corrupt image, and the image of a broken label file.
    items = {i["path"]: i for i in doc["items"]}
    corrupt = next(e["file"] for e in expected["issues"] if e["code"] == "corrupt_image")
    assert items[corrupt]["errorCount"] == 1
    assert doc["stats"]["corruptImages"] == 2
    if task != "classify":
        assert items["labels/train/img_0003.txt"]["errorCount"] == 1
        assert items["images/train/img_0003.jpg"]["errorCount"] == 1
        assert items["labels/train/ghost.txt"]["kind"] == "label"
        assert doc["stats"]["backgroundImages"] == 1


@pytest.mark.parametrize("task", TASKS)
def test_a_clean_set_passes_with_its_statistics(tmp_path: Path, task: str) -> None:
    expected = factory.make(tmp_path, task, n_train=9, n_val=4, n_test=3, size=(80, 60))
    doc = validate(str(tmp_path), procs=2)
    assert doc["report"] == {"ok": True, "task": task, "counts": {}, "issues": []}
    stats = doc["stats"]
    assert stats["imagesPerSplit"] == expected["stats"]["imagesPerSplit"] == {"train": 9, "val": 4, "test": 3}
    assert stats["instancesPerClass"] == expected["stats"]["instancesPerClass"]
    assert stats["corruptImages"] == 0 and stats["backgroundImages"] == 0
    assert stats["formats"] == {"JPEG": 16}
    assert sum(stats["imageWidths"]["counts"]) == 16
    # 80 px wide, 60 px high: the bins [64, 128) and [0, 64).
    assert stats["imageWidths"]["counts"][stats["imageWidths"]["edges"].index(64)] == 16
    assert stats["imageHeights"]["counts"][0] == 16
    assert doc["names"] == factory.NAMES
    images = [i for i in doc["items"] if i["kind"] == "image"]
    assert len(images) == 16 and all(i["width"] == 80 and i["height"] == 60 and i["errorCount"] == 0 for i in images)
    if task == "classify":
        assert doc["splits"] == {"train": "train", "val": "val", "test": "test"}
        assert "boxAreas" not in stats
        item = next(i for i in images if i["path"] == "train/dog/img_0002.jpg")
        assert item["labels"] == [{"c": 2}] and item["classIds"] == [2]
        return
    assert doc["splits"] == {"train": "images/train", "val": "images/val", "test": "images/test"}
    # Two objects per image.
    assert sum(stats["boxAreas"]["counts"]) == 32 and sum(stats["boxAspects"]["counts"]) == 32
    item = next(i for i in images if i["path"] == "images/train/img_0004.jpg")
    lines = (tmp_path / "labels/train/img_0004.txt").read_text().splitlines()
    first = [float(v) for v in lines[0].split()]
    assert item["classIds"] == [1, 2] and [l["c"] for l in item["labels"]] == [1, 2]
    label = item["labels"][0]
    if task == "detect":
        assert label["box"] == pytest.approx(first[1:])
    elif task == "segment":
        assert label["poly"] == pytest.approx(first[1:]) and len(label["box"]) == 4
    elif task == "pose":
        assert label["box"] == pytest.approx(first[1:5]) and label["kpts"] == pytest.approx(first[5:])
        assert doc["kptShape"] == [3, 3] and doc["flipIdx"] == [0, 2, 1]
    else:
        assert label["poly"] == pytest.approx(first[1:])


@pytest.mark.parametrize("task", ["detect", "classify"])
def test_an_empty_split_is_an_error(tmp_path: Path, task: str) -> None:
    expected = factory.make(tmp_path, task, defects=["empty_split"])
    doc = validate(str(tmp_path), procs=1)
    assert doc["report"]["ok"] is False
    (exp,) = expected["issues"]
    assert found(doc, "empty_split", exp["file"], exp["line"])[0]["severity"] == "error"
    assert doc["stats"]["imagesPerSplit"]["val"] == 0


def test_obb_is_recognised_from_its_label_lines(tmp_path: Path) -> None:
    factory.make(tmp_path, "obb")
    yaml_file = tmp_path / "data.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("task: obb\n", ""))
    assert validate(str(tmp_path), procs=1)["task"] == "obb"


def test_bad_yaml_names_its_line(tmp_path: Path) -> None:
    factory.make(tmp_path, "detect")
    (tmp_path / "data.yaml").write_text("train: images/train\nval: images/val\nnames: [a, b\n")
    doc = validate(str(tmp_path), procs=1)
    assert doc["report"]["ok"] is False and doc["task"] is None
    (issue,) = doc["report"]["issues"]
    assert issue["code"] == "bad_yaml" and issue["file"] == "data.yaml" and issue["line"] == 4


def test_names_with_a_gap_and_class_ids_past_them(tmp_path: Path) -> None:
    factory.make(tmp_path, "detect")
    (tmp_path / "data.yaml").write_text("train: images/train\nval: images/val\nnames:\n  0: bird\n  2: dog\n")
    doc = validate(str(tmp_path), procs=1)
    assert found(doc, "names_mismatch", "data.yaml", 3)
    assert doc["names"] == ["bird", "class1", "dog"]


def test_issues_are_capped_per_code_and_counted_in_full(tmp_path: Path) -> None:
    factory.make(tmp_path, "detect")
    (tmp_path / "labels/train/img_0000.txt").write_text("9 0.5 0.5 0.1 0.1\n" * 1 + "".join(f"9 0.5 0.5 0.1 0.{i:04d}\n" for i in range(299)))
    doc = validate(str(tmp_path), procs=1)
    assert doc["report"]["counts"]["class_out_of_range"] == 300
    listed = [i for i in doc["report"]["issues"] if i["code"] == "class_out_of_range"]
    assert len(listed) == REPORT_ISSUES_PER_CODE
    assert [i["line"] for i in listed[:3]] == [1, 2, 3]


def test_a_split_given_as_a_list_file(tmp_path: Path) -> None:
    factory.make(tmp_path, "detect")
    (tmp_path / "train.txt").write_text("./images/train/img_0000.jpg\nimages/train/img_0001.jpg\n./images/train/nope.jpg\n")
    (tmp_path / "data.yaml").write_text("train: train.txt\nval: images/val\nnames: [bird, cat, dog]\n")
    doc = validate(str(tmp_path), procs=1)
    assert doc["stats"]["imagesPerSplit"]["train"] == 2
    assert doc["splits"]["train"] == "train.txt"
    assert found(doc, "missing_image", "train.txt", 3)


def test_a_path_outside_the_upload_is_ignored_with_a_warning(tmp_path: Path) -> None:
    factory.make(tmp_path, "detect")
    text = (tmp_path / "data.yaml").read_text().replace("path: .", "path: ../datasets/coco8")
    (tmp_path / "data.yaml").write_text(text)
    doc = validate(str(tmp_path), procs=1)
    assert doc["report"]["ok"] is True
    assert found(doc, "path_ignored", "data.yaml", 1)[0]["severity"] == "warning"


def test_a_split_outside_the_dataset_is_refused(tmp_path: Path) -> None:
    factory.make(tmp_path, "detect")
    (tmp_path / "data.yaml").write_text("train: ../../etc\nval: images/val\nnames: [bird, cat, dog]\n")
    doc = validate(str(tmp_path), procs=1)
    assert found(doc, "bad_yaml", "data.yaml", 1)


def test_a_decompression_bomb_is_refused_before_it_is_decoded(tmp_path: Path) -> None:
    factory.make(tmp_path, "classify")
    Image.new("1", (13000, 13000)).save(tmp_path / "train/bird/huge.png")
    doc = validate(str(tmp_path), procs=1)
    assert found(doc, "image_too_large", "train/bird/huge.png")


def test_no_layout_at_all(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("hi")
    doc = validate(str(tmp_path), procs=1)
    assert doc["report"]["ok"] is False and doc["report"]["counts"] == {"unsupported_layout": 1}


def test_the_command_line_prints_one_json_document(tmp_path: Path) -> None:
    factory.make(tmp_path / "ds", "segment")
    out = subprocess.run([sys.executable, str(VALIDATOR), str(tmp_path / "ds")], capture_output=True, text=True, check=True)
    doc = json.loads(out.stdout)
    assert doc["report"]["ok"] is True and doc["task"] == "segment"
    res = subprocess.run([sys.executable, str(VALIDATOR), str(tmp_path / "nope")], capture_output=True, text=True)
    assert res.returncode == 2 and "not a folder" in res.stderr


def test_oversized_text_is_refused_not_loaded(tmp_path: Path) -> None:
    factory.make(tmp_path, "detect")
    (tmp_path / "labels/train/img_0002.txt").write_bytes(b"0 0.5 0.5 0.1 0.1\n" * 1_000_000)
    doc = validate(str(tmp_path), procs=1)
    assert "larger than 16 MB" in found(doc, "bad_label_line", "labels/train/img_0002.txt", 1)[0]["message"]
    (tmp_path / "data.yaml").write_text("names: [a]\n" + "# padding\n" * 120_000)
    doc = validate(str(tmp_path), procs=1)
    assert found(doc, "bad_yaml", "data.yaml")
