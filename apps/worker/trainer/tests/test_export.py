"""Unit tests of the exporter adapter against the Ultralytics stand-in (tests/standin)."""
import zipfile

import pytest

import export
import ultralytics  # the stand-in
from capture import Capture


@pytest.fixture
def weights(tmp_path):
    ultralytics.calls.clear()
    w = tmp_path / "best.pt"
    w.write_text("weights")
    return w


def run(weights, options, model_type="yolo"):
    events = Capture()
    code = export.export(weights, options, model_type, "cpu", events, ultralytics)
    return code, events.events


def test_a_file_output_is_reported_with_its_path(weights):
    code, events = run(weights, {"format": "onnx", "imgsz": 320, "dynamic": True})
    assert code == 0
    assert events[-1]["type"] == "exported"
    assert events[-1]["file"] == str(weights.with_name("best.onnx"))
    call = ultralytics.calls[-1]
    # Only the options given are passed on, with the device; onnxslim is absent here, so no simplify.
    assert {k: call[k] for k in ("format", "imgsz", "dynamic", "device", "simplify")} == {"format": "onnx", "imgsz": 320, "dynamic": True, "device": "cpu", "simplify": export.importable("onnxslim")}
    assert "half" not in call and "int8" not in call


def test_a_directory_output_is_zipped_into_one_file(weights):
    code, events = run(weights, {"format": "openvino", "dynamic": True})
    assert code == 0
    out = events[-1]["file"]
    assert out.endswith("best_openvino_model.zip")
    with zipfile.ZipFile(out) as z:
        assert sorted(z.namelist()) == ["best_openvino_model/", "best_openvino_model/model.bin", "best_openvino_model/model.xml"]


def test_an_option_the_format_refuses_is_an_invalid_argument(weights, monkeypatch):
    # Any existing dataset: calibration data is not the point here.
    monkeypatch.setenv("WYOLO_DATASETS_DIR", str(weights.parent))
    monkeypatch.setenv("WYOLO_DATA", weights.name)
    code, events = run(weights, {"format": "torchscript", "int8": True})
    assert code == 1
    assert events[-1]["type"] == "failed"
    assert events[-1]["errorClass"] == "INVALID_ARGUMENT"
    assert "not supported for format='torchscript'" in events[-1]["message"]


def test_rtdetr_weights_load_with_the_rtdetr_class(weights):
    run(weights, {"format": "torchscript"}, model_type="rtdetr")
    assert ultralytics.calls[-1]["cls"] == "RTDETR"


def test_unknown_format_fails_without_calling_ultralytics(weights):
    code, events = run(weights, {"format": "nope"})
    assert code == 1 and events[-1]["errorClass"] == "INVALID_ARGUMENT"
    assert ultralytics.calls == []


def test_formats_offered_follow_what_is_importable(monkeypatch):
    present = {"onnx", "openvino"}
    monkeypatch.setattr(export, "importable", lambda name: name in present)
    monkeypatch.setattr(export.shutil, "which", lambda name: None)
    assert export.supported_formats(cuda=False) == ["torchscript", "onnx", "openvino"]
    present.add("tensorrt")
    # TensorRT needs CUDA as well as its module.
    assert "engine" not in export.supported_formats(cuda=False)
    assert "engine" in export.supported_formats(cuda=True)


def test_int8_calibrates_on_the_jobs_own_dataset(weights, tmp_path, monkeypatch):
    data = tmp_path / "shapes" / "data.yaml"
    data.parent.mkdir()
    data.write_text("names: {0: a}\n")
    monkeypatch.setenv("WYOLO_DATA", "shapes/data.yaml")
    monkeypatch.setenv("WYOLO_DATASETS_DIR", str(tmp_path))
    monkeypatch.setattr(export, "importable", lambda name: True)
    code, _ = run(weights, {"format": "openvino", "int8": True})
    assert code == 0
    assert ultralytics.calls[-1]["data"] == str(data)


def test_int8_without_a_dataset_or_nncf_fails_saying_why(weights, monkeypatch):
    monkeypatch.delenv("WYOLO_DATA", raising=False)
    monkeypatch.setattr(export, "importable", lambda name: True)
    code, events = run(weights, {"format": "openvino", "int8": True})
    assert code == 1 and events[-1]["errorClass"] == "INVALID_ARGUMENT" and "calibration" in events[-1]["message"]
    monkeypatch.setattr(export, "importable", lambda name: name != "nncf")
    code, events = run(weights, {"format": "openvino", "int8": True})
    assert code == 1 and "nncf" in events[-1]["message"]
    assert ultralytics.calls == []
