"""Shared fixtures: a small synthetic dataset, the path of the read-only real samples, the
package's warnings."""
import logging
from pathlib import Path

import pytest

# The fault tests' shared fixtures (tests/*/test_faults.py).
pytest_plugins = ["tests.fault_fixtures"]

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


@pytest.fixture
def agmm_warnings(caplog, monkeypatch):
    """caplog holding the warnings of the agmm_d2 loggers, also after a run in this process has
    stopped them from propagating and given them handlers of its own (detectron2's
    setup_logger does; a handler may write to a stream an earlier test has closed)."""
    monkeypatch.setattr(logging.getLogger("agmm_d2"), "propagate", True)
    monkeypatch.setattr(logging.getLogger("agmm_d2"), "handlers", [])
    with caplog.at_level(logging.WARNING, logger="agmm_d2"):
        yield caplog
