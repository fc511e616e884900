"""Faults against runs: weights and checkpoints loaded with a guard, resumption, the output folder,
runs that would crash in their processes stopped first, an earlier run never replaced without
--overwrite.

One group of the fault tests (the others: tests/*/test_faults.py; their shared parts:
tests/fault_fixtures.py). The tests drive the command-line tools where they can, so they check what
a user sees: the exit status and the message.
"""
import shutil
import zipfile

import pytest
import torch

from tests.fault_fixtures import (
    run_predict,
    run_train_net,
)

pytestmark = pytest.mark.usefixtures("scan_cache")


def test_weights_that_are_not_a_checkpoint(predict, train_net, data, capsys, tmp_path):
    fake = tmp_path / "weights.pth"
    fake.write_text("not a checkpoint")
    status, io = run_predict(predict, capsys, "--input", data / "images" / "val", "--output",
                             tmp_path / "pred", "MODEL.WEIGHTS", fake)
    assert status == 2 and f"{fake}: not a readable checkpoint" in io.err
    assert io.err.strip().count("\n") == 0 and "weights_only" not in io.err
    status, err = run_train_net(train_net, capsys, "MODEL.WEIGHTS", fake,
                                "OUTPUT_DIR", tmp_path / "eval", flags=["--eval-only"])
    assert status == 2 and f"{fake}: not a readable checkpoint" in err


@pytest.mark.slow
def test_checkpoint_of_another_model_is_refused_or_warned(predict, data, weights, capsys,
                                                          tmp_path):
    other = tmp_path / "other.pth"
    torch.save({"model": {"some.other.layer.weight": torch.zeros(3)}}, other)
    status, io = run_predict(predict, capsys, "--input", data / "images" / "val", "--output",
                             tmp_path / "pred", "MODEL.WEIGHTS", other)
    assert status == 2 and "none of the model's" in io.err and str(other) in io.err
    state = torch.load(weights, weights_only=False)
    few = {"model": {k: v for i, (k, v) in enumerate(state["model"].items()) if i < 5}}
    part = tmp_path / "part.pth"
    torch.save(few, part)
    status, io = run_predict(predict, capsys, "--input", data / "images" / "val", "--output",
                             tmp_path / "pred3", "MODEL.WEIGHTS", part)
    assert status == 0  # predictions are written, with a loud warning
    assert "only 5 of the model's" in io.err + io.out


@pytest.mark.slow
def test_resume_from_a_truncated_or_missing_last_checkpoint(train_net, data, weights, capsys,
                                                            tmp_path):
    out = tmp_path / "run"
    status, err = run_train_net(train_net, capsys, "SOLVER.MAX_ITER", "4",
                                "SOLVER.CHECKPOINT_PERIOD", "2", "DATASETS.TEST", "()",
                                "OUTPUT_DIR", out)
    assert status == 0, err
    assert (out / "last_checkpoint").read_text() == "model_final.pth"
    final = out / "model_final.pth"
    final.write_bytes(final.read_bytes()[:1000])  # truncated
    status, err = run_train_net(train_net, capsys, "SOLVER.MAX_ITER", "4",
                                "SOLVER.CHECKPOINT_PERIOD", "100", "DATASETS.TEST", "()",
                                "OUTPUT_DIR", out, flags=["--resume"])
    assert status == 0, err
    assert "resuming from model_0000003.pth" in err  # the newest readable one, said before
    log = (out / "log.txt").read_text()
    assert "resuming from model_0000003.pth" in log and "Starting training from iteration 4" in log
    (out / "last_checkpoint").write_text("model_9999999.pth")  # names a missing file
    for p in out.glob("model_*.pth"):
        p.unlink()
    status, err = run_train_net(train_net, capsys, "DATASETS.TEST", "()", "OUTPUT_DIR", out,
                                flags=["--resume"])
    assert status == 2 and "model_9999999.pth" in err and "the file does not exist" in err
    assert err.strip().count("\n") == 0


def test_output_dir_that_cannot_be_created(train_net, data, capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    status, err = run_train_net(train_net, capsys, "OUTPUT_DIR", blocker / "run")
    assert status == 2 and f"OUTPUT_DIR '{blocker / 'run'}': cannot be created" in err


@pytest.mark.slow
def test_checkpoints_written_by_training_are_complete_zip_files(weights):
    assert zipfile.is_zipfile(weights)


def test_eval_only_without_weights_names_what_it_looked_for(train_net, data, weights, capsys,
                                                            tmp_path):
    out = tmp_path / "run"
    status, err = run_train_net(train_net, capsys, "MODEL.WEIGHTS", "", "OUTPUT_DIR", out,
                                flags=["--eval-only"])
    assert status == 2 and "MODEL.WEIGHTS is empty" in err
    assert f"{out / 'model_final.pth'} does not exist" in err and err.strip().count("\n") == 0
    shutil.copy(weights, out / "model_final.pth")  # trained, but not named: still refused
    status, err = run_train_net(train_net, capsys, "MODEL.WEIGHTS", "", "OUTPUT_DIR", out,
                                flags=["--eval-only"])
    assert status == 2 and f"pass MODEL.WEIGHTS {out / 'model_final.pth'}" in err
    assert not (out / "inference").exists()


def test_resume_with_a_larger_max_iter_follows_the_new_schedule(train_net, data, capsys, tmp_path):
    out = tmp_path / "run"
    common = ["SOLVER.WARMUP_ITERS", "0", "DATASETS.TEST", "()", "OUTPUT_DIR", out]
    status, err = run_train_net(train_net, capsys, "SOLVER.MAX_ITER", "2", *common)
    assert status == 0, err
    status, err = run_train_net(train_net, capsys, "SOLVER.MAX_ITER", "4", *common,
                                flags=["--resume"])
    assert status == 0, err
    import json

    lr = {r["iteration"]: r["lr"] for r in map(json.loads, (out / "metrics.json").open())
          if "lr" in r}
    power = 0.9  # SOLVER.POLY_LR_POWER of the demo config
    # poly: lr(i) = base * (1 - i / MAX_ITER) ** power; iteration 1 of 2, then 3 of the new 4
    assert lr[3] / lr[1] == pytest.approx(((1 - 3 / 4) / (1 - 1 / 2)) ** power, rel=1e-6)


@pytest.mark.parametrize("flags,opts,message", [
    ([], ["SOLVER.MAX_ITER", "0"], "SOLVER.MAX_ITER is 0; expected 1 or more"),
    ([], ["DATASETS.TRAIN", "()"], "DATASETS.TRAIN is empty"),
    (["--eval-only"], ["DATASETS.TEST", "()"], "DATASETS.TEST is empty: there is nothing to "
                                               "evaluate"),
    (["--num-gpus", "2"], ["SOLVER.IMS_PER_BATCH", "3"], "SOLVER.IMS_PER_BATCH is 3, which 2 "
                                                         "processes cannot share"),
    ([], ["DATALOADER.NUM_WORKERS", "-1"], "DATALOADER.NUM_WORKERS is -1"),
    ([], ["SOLVER.SWA.ENABLED", "True", "TEST.PRECISE_BN.ENABLED", "True",
          "SOLVER.SWA.START_FRACTION", "1.0"], "SOLVER.SWA.START_FRACTION is 1.0; expected a "
                                               "fraction of SOLVER.MAX_ITER in [0, 1)"),
    ([], ["SOLVER.SWA.ENABLED", "True"], "SOLVER.SWA.ENABLED needs TEST.PRECISE_BN.ENABLED True"),
])
def test_runs_that_would_crash_in_their_processes_stop_first(train_net, data, weights, capsys,
                                                             tmp_path, flags, opts, message):
    status, err = run_train_net(train_net, capsys, "MODEL.WEIGHTS", weights,
                                "OUTPUT_DIR", tmp_path / "run", *opts, flags=flags)
    assert status == 2 and message in err and err.strip().count("\n") == 0, err
    assert not (tmp_path / "run" / "log.txt").exists()


def test_training_does_not_replace_an_earlier_run(train_net, data, capsys, tmp_path):
    out = tmp_path / "run"
    common = ["SOLVER.MAX_ITER", "1", "DATASETS.TEST", "()", "OUTPUT_DIR", out]
    status, err = run_train_net(train_net, capsys, *common)
    assert status == 0, err
    first = (out / "model_final.pth").read_bytes()
    status, err = run_train_net(train_net, capsys, *common)
    assert status == 2 and err.strip().count("\n") == 0, err
    assert "holds an earlier run (last_checkpoint, metrics.json, model_final.pth)" in err, err
    assert "--resume continues it, --overwrite replaces it" in err, err
    assert (out / "model_final.pth").read_bytes() == first  # left as it was
    status, err = run_train_net(train_net, capsys, *common, flags=["--overwrite"])
    assert status == 0, err
