"""Config files and dataset names of the earlier layout keep working for one release: every old
path (directly, in a _BASE_ of a user's config) and every old dataset name (in DATASETS.*, a
tool's --dataset) resolves to its new one, with one note; docs/configs.md lists both tables."""
import re
from pathlib import Path

import pytest
from detectron2.data import DatasetCatalog

from agmm_d2.cli.options import upgraded_dataset
from agmm_d2.config_renames import (
    RENAMED_CONFIGS,
    RENAMED_DATASETS,
    renamed_config,
    upgrade_dataset_name,
)
from agmm_d2.engine import build_config

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"


@pytest.mark.parametrize("old", sorted(RENAMED_CONFIGS))
def test_every_old_config_path_resolves_with_a_note(old, agmm_warnings):
    new = CONFIGS / RENAMED_CONFIGS[old]
    assert new.is_file() and not (CONFIGS / old).exists()
    cfg = build_config(CONFIGS / old)
    notes = [r.getMessage() for r in agmm_warnings.records if "is now" in r.getMessage()]
    assert notes == [f"{CONFIGS / old} is now {new}; using it (update the path)"]
    assert cfg.dump() == build_config(new).dump()


def test_an_old_path_in_a_users_base_resolves(tmp_path, agmm_warnings):
    mine = tmp_path / "my_run.yaml"
    mine.write_text(f'_BASE_: "{CONFIGS / "synthetic_20clicks.yaml"}"\nOUTPUT_DIR: "x"\n')
    cfg = build_config(mine)
    assert cfg.DATASETS.TRAIN == ("synthetic_train_20clicks",) and cfg.OUTPUT_DIR == "x"
    assert "synthetic_20clicks.yaml is now" in agmm_warnings.text
    assert renamed_config(tmp_path / "synthetic_20clicks.yaml") == (None, "")  # not configs/


@pytest.mark.parametrize("old", sorted(RENAMED_DATASETS))
def test_every_old_dataset_name_resolves_with_a_note(old, agmm_warnings, capsys):
    new = RENAMED_DATASETS[old]
    assert new in DatasetCatalog.list() and old != new
    cfg = build_config(CONFIGS / "synthetic" / "points_released.yaml",
                       {"DATASETS.TRAIN": (old,), "DATASETS.TEST": (old, "synthetic_val")})
    assert cfg.DATASETS.TRAIN == (new,) and cfg.DATASETS.TEST == (new, "synthetic_val")
    assert agmm_warnings.text.count(f"dataset {old!r} is now called {new!r}") == 2  # one per key
    capsys.readouterr()
    assert upgraded_dataset("visualize.py", old) == new
    assert capsys.readouterr().err == (f"visualize.py: warning: dataset {old!r} is now called "
                                       f"{new!r}; using it (update the name)\n")


def test_current_names_are_left_as_they_are():
    assert upgrade_dataset_name("synthetic_val") == ("synthetic_val", "")
    assert not set(RENAMED_DATASETS) & set(RENAMED_DATASETS.values())


def _table(section: str):
    """{old: new} of the first Markdown table under the docs/configs.md heading ``section``."""
    text = (REPO / "docs" / "configs.md").read_text().split(f"\n## {section}\n", 1)[1]
    text = text.split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|$", text, re.M))


def test_docs_list_the_renames():
    assert _table("Renamed configs") == {f"configs/{o}": f"configs/{n}"
                                         for o, n in RENAMED_CONFIGS.items()}
    assert _table("Renamed datasets") == RENAMED_DATASETS
