"""Faults against evaluation that cannot be silently wrong: a dense label value outside the classes
stops it (naming the file) or is counted as ignored when asked, also without the scan.

One group of the fault tests (the others: tests/*/test_faults.py; their shared parts:
tests/fault_fixtures.py). The tests drive the command-line tools where they can, so they check what
a user sees: the exit status and the message.
"""

import numpy as np
import pytest
import torch
from detectron2.data import DatasetCatalog
from PIL import Image

from agmm_d2.data.synthetic import CLASSES
from tests.fault_fixtures import (
    run_train_net,
    write_png,
)

pytestmark = pytest.mark.usefixtures("scan_cache")


@pytest.mark.slow
def test_eval_label_value_outside_the_classes_stops_with_the_file(train_net, data, capsys,
                                                                  tmp_path):
    bad = data / "dense" / "val" / "0002.png"
    label = np.asarray(Image.open(bad)).copy()
    label[:4, :4] = 9  # 6 classes, ignore 255: 9 is neither
    write_png(bad, label)
    status, err = run_train_net(train_net, capsys, "OUTPUT_DIR", tmp_path / "run")
    assert status == 2 and str(bad) in err and "label values [9]" in err
    assert not (tmp_path / "run" / "model_final.pth").exists()


@pytest.mark.slow
def test_eval_label_outside_counted_as_ignored_when_asked(train_net, data, capsys, tmp_path):
    bad = data / "dense" / "val" / "0002.png"
    label = np.asarray(Image.open(bad)).copy()
    label[:4, :4] = 9
    write_png(bad, label)
    status, _ = run_train_net(train_net, capsys, "TEST.OUT_OF_RANGE_LABELS", "ignore",
                              "OUTPUT_DIR", tmp_path / "run")
    assert status == 0
    log = (tmp_path / "run" / "log.txt").read_text()
    assert "16 pixels hold label values outside the classes" in log
    assert "of which 16 with values outside the classes" in log  # the mIoU table says it
    metrics = torch.load(tmp_path / "run" / "inference" / "fault_val" / "sem_seg_evaluation.pth",
                         weights_only=False)
    assert metrics["out_of_range_pixels"] == 16 and metrics["ignored_pixels"] >= 16


def test_evaluator_checks_labels_without_the_scan(data, tmp_path):
    """--skip-data-check leaves the evaluator's own check: it names the file."""
    from agmm_d2.evaluation import CheckedSemSegEvaluator

    bad = data / "dense" / "val" / "0001.png"
    label = np.asarray(Image.open(bad)).copy()
    label[0, 0] = 7
    write_png(bad, label)
    evaluator = CheckedSemSegEvaluator("fault_val", distributed=False)
    evaluator.reset()
    record = next(r for r in DatasetCatalog.get("fault_val") if r["sem_seg_file_name"] == str(bad))
    output = {"sem_seg": torch.zeros(len(CLASSES), 64, 64)}
    with pytest.raises(ValueError, match=f"{bad}: dense label values \\[7\\]"):
        evaluator.process([record], [output])


@pytest.mark.slow
def test_skip_data_check_skips_the_scan_not_the_evaluators_check(train_net, data, capsys,
                                                                  tmp_path):
    bad = data / "dense" / "val" / "0001.png"
    label = np.asarray(Image.open(bad)).copy()
    label[0, 0] = 7
    write_png(bad, label)
    with pytest.raises(ValueError, match=f"{bad}: dense label values \\[7\\]"):
        run_train_net(train_net, capsys, "OUTPUT_DIR", tmp_path / "run",
                      flags=["--skip-data-check"])
    assert (tmp_path / "run" / "model_final.pth").is_file()  # it trained: no scan stopped it
