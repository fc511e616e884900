"""Faults against datasets: bad files found before the first iteration (the scan), none silently
left out (suffixes without case, hidden files, duplicates), images measured as the loader reads
them (EXIF), and the dataset tools (check_dataset, make_clicks, image_classes) refusing nonsense.

One group of the fault tests (the others: tests/*/test_faults.py; their shared parts:
tests/fault_fixtures.py). The tests drive the command-line tools where they can, so they check what
a user sees: the exit status and the message.
"""
import shutil
from pathlib import Path

import numpy as np
import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog
from PIL import Image

from agmm_d2.data import register_sparse_sem_seg
from agmm_d2.data.synthetic import CLASSES, generate
from tests.fault_fixtures import (
    DATASETS,
    DEMO,
    TINY,
    cli_module,
    run_tool,
    run_train_net,
    truncated_image,
    write_png,
)

pytestmark = pytest.mark.usefixtures("scan_cache")


def test_dense_training_set_is_annotated(data):
    """A training set of dense labels (no sparse ones) is scanned as the mapper reads it."""
    from agmm_d2.data.checks.scan import scan_records

    register_sparse_sem_seg(
        "fault_dense",
        data / "images" / "train",
        None,
        data / "dense" / "train",
        classes=CLASSES,
        image_ext=".png",
    )
    try:
        report = scan_records("fault_dense", DatasetCatalog.get("fault_dense"), num_classes=6)
    finally:
        DatasetCatalog.remove("fault_dense")
        MetadataCatalog.remove("fault_dense")
    assert report.ok and report.annotated_pixels == 12 * 64 * 64


def test_training_set_without_any_annotation_stops(train_net, data, capsys, tmp_path):
    for path in (data / "point" / "train").glob("*.png"):
        write_png(path, np.full((64, 64), 255))
    status, err = run_train_net(train_net, capsys, "OUTPUT_DIR", tmp_path / "run")
    assert status == 2 and "annotates any pixel" in err and "nothing to learn from" in err


def _rgb_label(path):
    write_png(path, np.zeros((64, 64, 3)), mode="RGB")


def _value_over_k(path):
    label = np.asarray(Image.open(path)).copy()
    label[10, 10] = 6
    write_png(path, label)


def _other_size(path):
    write_png(path, np.full((32, 64), 255))


def _not_an_image(path):
    path.write_text("not an image")


@pytest.mark.parametrize("which,fault,message", [
    ("point/train/0003.png", _rgb_label, "mode RGB"),
    ("point/train/0003.png", _value_over_k, "label values [6]"),
    ("point/train/0003.png", _other_size, "label is 64x32 (WxH) but its image"),
    ("images/train/0003.png", truncated_image, "cannot decode the image"),
    ("images/train/0003.png", _not_an_image, "cannot decode the image"),
])
def test_bad_training_file_is_found_before_the_run(train_net, data, capsys, tmp_path, which,
                                                   fault, message):
    fault(data / which)
    status, err = run_train_net(train_net, capsys, "OUTPUT_DIR", tmp_path / "run")
    assert status == 2, err
    assert f"{data / which}: " in err and message in err, err
    assert "Traceback" not in err and not (tmp_path / "run" / "metrics.json").exists()


@pytest.mark.slow
def test_one_bad_label_among_300_stops_before_the_first_iteration(train_net, capsys, tmp_path):
    root = generate(tmp_path / "d300", seed=5, n_train=300, n_val=4, n_test=0, size=32)
    bad = root / "point" / "train" / "0123.png"
    label = np.asarray(Image.open(bad)).copy()
    label[5, 5] = 17
    write_png(bad, label)
    register_sparse_sem_seg("fault_train", root / "images" / "train", root / "point" / "train",
                            classes=CLASSES, image_ext=".png")
    register_sparse_sem_seg("fault_val", root / "images" / "val", None, root / "dense" / "val",
                            classes=CLASSES, image_ext=".png")
    try:
        status, err = run_train_net(train_net, capsys, "INPUT.CROP.SIZE", "(32, 32)",
                                    "OUTPUT_DIR", tmp_path / "run")
    finally:
        for name in ("fault_train", "fault_val"):
            DatasetCatalog.remove(name)
            MetadataCatalog.remove(name)
    assert status == 2 and f"{bad}: label values [17]" in err
    assert "1 broken file(s) or problem(s) in 300 images" in err
    assert not (tmp_path / "run" / "log.txt").exists()  # stopped before any process was set up


@pytest.mark.slow
def test_prep_tools_refuse_bad_counts_and_empty_inputs(tiny_synthetic, tmp_path):
    dense = tiny_synthetic / "agmm_synthetic" / "dense" / "train"
    for args, message in [(["--dense", dense, "--out-root", tmp_path, "--clicks", 0],
                           "clicks is 0; expected at least 1"),
                          (["--dense", dense, "--out-root", tmp_path, "--per-region", -2],
                           "per_region is -2; expected at least 1"),
                          (["--dense", tmp_path, "--out-root", tmp_path / "o", "--clicks", 5],
                           "no *.png label file")]:
        result = run_tool("make_clicks", *args)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().count("\n") == 0 and message in result.stderr
        assert result.stderr.startswith("make_clicks.py: error: ")
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob("*clicks*"))


def test_check_finds_a_missing_label_and_a_truncated_image(data, capsys):
    check = cli_module("check_dataset")
    (data / "point" / "train" / "0004.png").unlink()
    truncated_image(data / "images" / "train" / "0005.png")
    assert check.main(["fault_train"]) == 1
    report = capsys.readouterr().out
    assert "missing_label" in report and "0004.png" in report
    assert "unreadable_image" in report and "0005.png" in report


def test_check_takes_a_folder_and_suggests_close_names(data, capsys):
    check = cli_module("check_dataset")
    status = check.main([str(data / "images" / "train"), "--sparse", str(data / "point" / "train"),
                         "--num-classes", "6", "--image-ext", ".png"])
    assert status == 0, capsys.readouterr().out
    assert check.main(["fault_trian"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("check_dataset.py: error: dataset: dataset 'fault_trian' is not "
                            "registered") and len(error.splitlines()) == 1
    assert "did you mean fault_train" in error and error.count(",") < 5


def test_prep_tool_interrupted_leaves_nothing(tiny_synthetic, tmp_path, monkeypatch):
    from agmm_d2.data import sparse_labels

    calls = []

    def failing(key, dense):
        calls.append(key)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return dense

    with pytest.raises(KeyboardInterrupt):
        sparse_labels.sparsify_folder(tiny_synthetic / "agmm_synthetic" / "dense" / "train",
                             tmp_path / "out", failing)
    assert list(tmp_path.iterdir()) == []  # no output, no temporary folder


def test_suffixes_match_without_case_and_left_out_files_are_counted(data, capsys, caplog):
    from agmm_d2.data.checks import check_data
    from agmm_d2.engine import build_config

    images = data / "images" / "train"
    for key in ("0001", "0002"):
        (images / f"{key}.png").rename(images / f"{key}.PNG")
    (data / "point" / "train" / "0003.png").rename(data / "point" / "train" / "0003.PNG")
    Image.open(images / "0004.png").save(images / "0004.jpeg")  # another suffix: left out
    (images / "0004.png").unlink()
    (images / ".0005.png").write_bytes(b"")  # a hidden file (macOS resource fork): left out
    with caplog.at_level("WARNING"):
        records = DatasetCatalog.get("fault_train")
    assert len(records) == 11 and {Path(r["file_name"]).name for r in records} >= {"0001.PNG",
                                                                                     "0002.PNG"}
    assert "11 images used, 3 file(s) left out" in caplog.text  # the training log says it
    assert "other_suffix" in caplog.text and "0004.jpeg" in caplog.text
    cfg = build_config(DEMO, [*TINY, *DATASETS])
    warnings = "\n".join(check_data(cfg, eval_only=False))
    assert "DATASETS.TRAIN dataset 'fault_train': 11 images used, 3 file(s) left out" in warnings
    check = cli_module("check_dataset")
    assert check.main(["fault_train"]) == 1
    report = capsys.readouterr().out
    assert '"other_suffix": 1' in report and '"label_without_image": 1' in report
    assert '"hidden_file": 1' in report


def test_several_image_suffixes_match_without_case_through_one_index(data, caplog):
    """image_ext as a tuple (a folder of mixed images, as the annotation importers register):
    every suffix is matched without regard to case, the first listed wins for a shared name,
    and the rest is left out with a count."""
    from agmm_d2.data.datasets.files import index_folder

    images = data / "images" / "train"
    Image.open(images / "0001.png").convert("RGB").save(images / "0001.JPG")
    (images / "0001.png").unlink()
    Image.open(images / "0002.png").convert("RGB").save(images / "0002.jpg")  # 0002.png first
    (images / "0003.png").rename(images / "0003.PNG")
    index = index_folder(images, (".png", ".jpg"), report_other_suffixes=True)
    assert index.files["0001"].name == "0001.JPG" and index.files["0002"].name == "0002.png"
    assert index.files["0003"].name == "0003.PNG" and len(index.files) == 12
    assert [(kind, Path(path).name) for kind, path, _ in index.left_out] == [
        ("duplicate_name", "0002.jpg")]
    register_sparse_sem_seg("fault_train", images, data / "point" / "train", classes=CLASSES,
                            image_ext=(".png", ".jpg"))
    with caplog.at_level("WARNING"):
        records = DatasetCatalog.get("fault_train")
    assert len(records) == 12 and "12 images used, 1 file(s) left out (1 duplicate_name)" \
        in caplog.text


def _exif_rotated_dataset(data, label_matches):
    """Image 0003 of fault_train as a phone stores a portrait photo: 64x48 (WxH) pixels with
    EXIF orientation 6, which the loader reads as 48x64; its label is 48x64 ("loaded") or
    64x48 ("stored")."""
    images, labels = data / "images" / "train", data / "point" / "train"
    loaded = Image.open(images / "0003.png").convert("RGB").crop((0, 0, 48, 64))
    exif = Image.Exif()
    exif[0x0112] = 6  # detectron2's read_image turns it by 270 degrees
    loaded.transpose(Image.Transpose.ROTATE_90).save(images / "0003.png", exif=exif)
    label = np.asarray(Image.open(labels / "0003.png"))[:, :48]
    write_png(labels / "0003.png", label if label_matches == "loaded" else label.T)
    return images / "0003.png", labels / "0003.png"


def test_exif_oriented_image_is_measured_as_the_loader_reads_it(train_net, data, capsys,
                                                                 tmp_path):
    from detectron2.data.detection_utils import read_image

    image, _ = _exif_rotated_dataset(data, "loaded")
    assert read_image(str(image)).shape[:2] == (64, 48)  # what the loader sees
    status, err = run_train_net(train_net, capsys, "DATASETS.TEST", "()",
                                "OUTPUT_DIR", tmp_path / "run")
    assert status == 0, err  # the scan passes and the run trains (no crash in the mapper)
    assert (tmp_path / "run" / "model_final.pth").is_file()


def test_label_of_the_stored_exif_image_is_one_clear_line(train_net, data, capsys, tmp_path):
    _, label = _exif_rotated_dataset(data, "stored")
    status, err = run_train_net(train_net, capsys, "DATASETS.TEST", "()",
                                "OUTPUT_DIR", tmp_path / "run")
    assert status == 2 and f"{label}: label is 64x48 (WxH), the image" in err
    assert "EXIF orientation to 48x64" in err and "Traceback" not in err


def test_image_classes_does_not_replace_an_existing_file(tiny_synthetic, tmp_path):
    dense = tmp_path / "dense"
    shutil.copytree(tiny_synthetic / "agmm_synthetic" / "dense" / "train", dense)
    (dense / "image_classes.json").write_text('{"hand": [1]}')
    result = run_tool("image_classes", "--dense", dense)
    assert result.returncode == 2 and "--overwrite" in result.stderr
    assert (dense / "image_classes.json").read_text() == '{"hand": [1]}'
    result = run_tool("image_classes", "--dense", dense, "--overwrite")
    assert result.returncode == 0 and '"0000"' in (dense / "image_classes.json").read_text()


def test_prep_tools_find_labels_whatever_the_case_of_their_suffix(tiny_synthetic, tmp_path):
    dense = tmp_path / "dense"
    shutil.copytree(tiny_synthetic / "agmm_synthetic" / "dense" / "train", dense)
    (dense / "0000.png").rename(dense / "0000.PNG")
    (dense / "._0001.png").write_bytes(b"\0\5\26\7")  # a macOS resource fork: not a label
    result = run_tool("make_clicks", "--dense", dense, "--out-root", tmp_path / "out",
                      "--clicks", 2)
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "out" / "2clicks_seed0").glob("*.png"))
    assert len(written) == 12 and "0000.png" in written
