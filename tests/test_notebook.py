"""notebooks/train_your_own_data.ipynb runs top to bottom in a kernel of this environment."""
import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "train_your_own_data.ipynb"


def _text(cell) -> str:
    return "".join(
        o.get("text", "") for o in cell.get("outputs", []) if o["output_type"] == "stream"
    )


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.outputs and c.execution_count is None for c in nb.cells
               if c.cell_type == "code")


@pytest.mark.slow
def test_notebook_runs_top_to_bottom(tmp_path, monkeypatch):
    monkeypatch.setenv("AGMM_NOTEBOOK_WORK", str(tmp_path))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=170, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    start = time.monotonic()
    client.execute()  # raises CellExecutionError naming the cell when a cell fails
    seconds = time.monotonic() - start
    assert seconds < 180, f"the notebook took {seconds:.0f} s"
    miou = [c for c in nb.cells if c.cell_type == "code" and "mIoU" in c.source]
    assert len(miou) == 1 and re.search(r"mIoU on my_folder_val: \d+\.\d", _text(miou[0])), \
        _text(miou[0])
    assert "train: 100%" in "".join(_text(c) for c in nb.cells if c.cell_type == "code")
    panel = nb.cells[-1].outputs
    assert any("image/png" in o.get("data", {}) for o in panel), "the panel was not shown"
    assert (tmp_path / "my_data" / "20clicks_seed0" / "image_classes.json").is_file()
