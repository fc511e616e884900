"""The numbers every benchmark table shows: mean and spread over seeds, and the paired difference
of a setting to its baseline (partial cross-entropy) seed by seed."""
import statistics
from typing import Sequence, Tuple


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def mean_pm_std(values: Sequence[float]) -> str:
    """``"mean ± std"`` with one decimal."""
    return "{:.1f} ± {:.1f}".format(*mean_std(values))


def per_seed(values: Sequence[float]) -> str:
    """The values, one decimal each, comma-separated."""
    return ", ".join(f"{v:.1f}" for v in values)


def paired_difference(values: Sequence[float], baseline: Sequence[float]) -> Tuple[float, int]:
    """(mean of values[i] - baseline[i], number of seeds where the value is higher)."""
    diffs = [v - b for v, b in zip(values, baseline)]
    return statistics.mean(diffs), sum(d > 0 for d in diffs)


def paired_cell(values: Sequence[float], baseline: Sequence[float], suffix: str = "") -> str:
    """``"+d.d (wins/n<suffix>)"``: the paired difference and the seeds where it is better."""
    mean, wins = paired_difference(values, baseline)
    return f"{mean:+.1f} ({wins}/{len(values)}{suffix})"
