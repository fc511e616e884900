"""notebooks/train_from_annotations.ipynb runs top to bottom in a kernel of this environment:
photos and a LabelMe export, import, train, evaluate on annotated pixels, predict, a panel."""
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "train_from_annotations.ipynb"


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o["output_type"] == "stream")


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
    text = "".join(_text(c) for c in nb.cells if c.cell_type == "code")
    assert re.search(r"mIoU over the annotated pixels of my_photos_val: \d+\.\d", text), text
    assert "train: 100%" in text
    assert re.search(r"\b40 photos segmented", text), text
    assert any("image/png" in o.get("data", {}) for o in nb.cells[-1].outputs), "no panel shown"
    # No dense label anywhere: every single-channel PNG is a sparse import or a prediction.
    for png in tmp_path.rglob("*.png"):
        with Image.open(png) as im:
            if im.mode == "L" and png.parent.name == "photos_sparse":
                assert (np.asarray(im) == 255).mean() > 0.9
            elif im.mode == "L":
                assert png.parent.name == "ids", png
