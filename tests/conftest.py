"""Shared fixtures: a small synthetic dataset, and the path of the read-only real samples."""
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """../shared/data (real annotation samples); tests skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent (it ships with the development workspace only)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_synthetic(tmp_path_factory):
    """A 12-train / 6-val / 3-test synthetic dataset at 64 px; returns its datasets root."""
    from agmm_d2.data.synthetic import generate

    root = tmp_path_factory.mktemp("datasets")
    generate(root, seed=3, n_train=12, n_val=6, n_test=3, size=64)
    return root
