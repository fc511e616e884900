"""benchmarks/ablate_agmm.py: what each variant trains with, and how the table is summarised."""
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ablate():
    from agmm_benchmarks import ablate_agmm

    return ablate_agmm


def _opts(overrides):
    return dict(zip(overrides[::2], overrides[1::2]))


def test_every_variant_shares_the_schedule_and_seed_and_changes_one_thing(ablate):
    names = list(ablate.variants(300))
    runs, keys = ablate.plan_runs(["points", "clicks"], names, [0, 4], 300)
    assert len(runs) == len(keys) == 2 * 2 * len(names)
    assert len({name for name, *_ in runs}) == len(runs)  # one folder per run
    for (name, _, config, overrides), (label, variant) in zip(runs, keys):
        opts = _opts(overrides)
        assert opts["SOLVER.MAX_ITER"] == "300" and opts["SEED"] in ("0", "4")
        released, preset = ablate.LABELS[label]
        assert config == (preset if variant == ablate.ROBUST else released)
        assert (REPO / config).is_file()
    by_key = {(k, _opts(r[3])["SEED"]): r for r, k in zip(runs, keys)}
    assert _opts(by_key[(("clicks", "partial CE"), "0")][3])["MODEL.AGMM.ENABLED"] == "False"
    assert set(_opts(by_key[(("points", "AGMM, released"), "0")][3])) == {"SOLVER.MAX_ITER", "SEED"}
    warm = _opts(by_key[(("points", "warm-up"), "0")][3])
    assert (warm["MODEL.AGMM.WARMUP_ITERS"], warm["MODEL.AGMM.RAMP_ITERS"]) == ("90", "60")


def test_robust_preset_warmup_is_scaled_with_the_schedule(ablate):
    # The presets warm up for 30 % and ramp over 20 % of their own 1000 iterations.
    assert _opts(ablate.robust_overrides("configs/synthetic/20clicks_robust.yaml", 300)) == {
        "MODEL.AGMM.WARMUP_ITERS": "90", "MODEL.AGMM.RAMP_ITERS": "60"}


def test_summary_has_mean_spread_and_paired_difference(ablate):
    results = {"points": {"partial CE": [10.0, 20.0, 30.0], "warm-up": [12.0, 19.0, 36.0]}}
    table = ablate.summarize(results, ["points"], ["partial CE", "warm-up"], [0, 1, 2])
    lines = table.splitlines()
    assert lines[2] == "| partial CE | 20.0 ± 10.0 |  |"
    assert lines[3] == "| warm-up | 22.3 ± 12.3 | +2.3 (2/3 seeds better) |"


def test_runner_reads_miou_and_run_time_of_a_finished_run(tmp_path):
    from agmm_benchmarks.runs import final_miou, run_seconds, time_summary

    run = tmp_path / "run"
    run.mkdir()
    assert final_miou(run) is None and run_seconds(run) is None
    (run / "metrics.json").write_text('{"iteration": 9, "total_loss": 1.0}\n'
                                      '{"iteration": 9, "sem_seg/mIoU": 41.5}\n')
    (run / "log.txt").write_text("[11/30 23:59:50] d2 INFO: start\n  a continued line\n"
                                 "[12/01 00:01:05] d2 INFO: copypaste\n")
    assert final_miou(run) == 41.5 and run_seconds(run) == 75.0
    other = tmp_path / "other"
    other.mkdir()
    (other / "log.txt").write_text("[12/01 00:00:05] d2 INFO: start\n[12/01 00:02:05] end\n")
    assert time_summary([run, other, tmp_path / "missing"]) == (
        "2 runs, 3 min of run time in all, 2 min of wall time from the first start to the last end")
