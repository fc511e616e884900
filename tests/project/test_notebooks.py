"""The notebooks under notebooks/ run top to bottom in a kernel of this environment, each in
about 2 minutes on the CPU, and are committed without outputs."""
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
OWN_DATA = NOTEBOOKS / "train_your_own_data.ipynb"
ANNOTATIONS = NOTEBOOKS / "train_from_annotations.ipynb"


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o["output_type"] == "stream")


def run_notebook(path: Path, work: Path, monkeypatch):
    """Execute ``path`` with its outputs written under ``work``; the executed notebook and the
    text its code cells printed."""
    monkeypatch.setenv("AGMM_NOTEBOOK_WORK", str(work))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=170, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    start = time.monotonic()
    client.execute()  # raises CellExecutionError naming the cell when a cell fails
    seconds = time.monotonic() - start
    assert seconds < 180, f"{path.name} took {seconds:.0f} s"
    text = "".join(_text(c) for c in nb.cells if c.cell_type == "code")
    assert "train: 100%" in text
    assert any("image/png" in o.get("data", {}) for o in nb.cells[-1].outputs), "no panel shown"
    return nb, text


@pytest.mark.parametrize("path", [OWN_DATA, ANNOTATIONS], ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    assert all(not c.outputs and c.execution_count is None for c in nb.cells
               if c.cell_type == "code")


@pytest.mark.slow
def test_own_data_notebook_runs_top_to_bottom(tmp_path, monkeypatch):
    nb, _ = run_notebook(OWN_DATA, tmp_path, monkeypatch)
    miou = [c for c in nb.cells if c.cell_type == "code" and "mIoU" in c.source]
    assert len(miou) == 1 and re.search(r"mIoU on my_folder_val: \d+\.\d", _text(miou[0])), \
        _text(miou[0])
    assert (tmp_path / "my_data" / "20clicks_seed0" / "image_classes.json").is_file()


@pytest.mark.slow
def test_annotations_notebook_runs_top_to_bottom(tmp_path, monkeypatch):
    _, text = run_notebook(ANNOTATIONS, tmp_path, monkeypatch)
    assert re.search(r"mIoU over the annotated pixels of my_photos_val: \d+\.\d", text), text
    assert re.search(r"\b40 photos segmented", text), text
    # No dense label anywhere: every single-channel PNG is a sparse import or a prediction.
    for png in tmp_path.rglob("*.png"):
        with Image.open(png) as im:
            if im.mode == "L" and png.parent.name == "photos_sparse":
                assert (np.asarray(im) == 255).mean() > 0.9
            elif im.mode == "L":
                assert png.parent.name == "ids", png
