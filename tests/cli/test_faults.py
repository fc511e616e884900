"""Faults against visualize.py: the user's registration and its colours, a user's file never
replaced.

One group of the fault tests (the others: tests/*/test_faults.py; their shared parts:
tests/fault_fixtures.py). The tests drive the command-line tools where they can, so they check what
a user sees: the exit status and the message.
"""

import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog
from PIL import Image

from tests.fault_fixtures import (
    DEMO,
    TINY,
    cli_module,
    registration_file,
)

pytestmark = pytest.mark.usefixtures("scan_cache")


def test_visualize_takes_register_and_refuses_colourless_metadata(data, weights, capsys,
                                                                  tmp_path, forget_user_datasets):
    visualize = cli_module("visualize")
    plain = registration_file(tmp_path / "plain.py", data, colors=False)
    status = visualize.main(["--config-file", DEMO, "--register", str(plain), "--dataset",
                             "user_train", "--num", "1", "--output", str(tmp_path / "v1"),
                             *TINY, "MODEL.WEIGHTS", str(weights)])
    err = capsys.readouterr().err
    assert status == 2 and "stuff_colors" in err and not (tmp_path / "v1").exists()
    DatasetCatalog.remove("user_train")
    MetadataCatalog.remove("user_train")
    good = registration_file(tmp_path / "good.py", data)
    status = visualize.main(["--config-file", DEMO, "--register", str(good), "--dataset",
                             "user_train", "--num", "1", "--output", str(tmp_path / "v2"),
                             *TINY, "MODEL.WEIGHTS", str(weights)])
    assert status == 0, capsys.readouterr().err
    assert (tmp_path / "v2" / "0000.png").is_file()


def test_visualize_does_not_replace_a_users_file(data, weights, capsys, tmp_path):
    visualize = cli_module("visualize")
    out = tmp_path / "vis"
    out.mkdir()
    (out / "0000.png").write_text("the user's own file")
    args = ["--config-file", DEMO, "--dataset", "fault_train", "--num", "1", "--output", str(out),
            *TINY, "MODEL.WEIGHTS", str(weights)]
    status = visualize.main(args)
    assert status == 2 and "--overwrite" in capsys.readouterr().err
    assert (out / "0000.png").read_text() == "the user's own file"
    assert visualize.main(["--overwrite", *args]) == 0
    assert Image.open(out / "0000.png").size[1] == 64 + 18  # replaced, as told
