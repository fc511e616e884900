"""The one registry of option values (agmm_d2.config.CHOICES) and its docs table, and the
renamed values upgraded by the one validation."""
import re
from pathlib import Path

import pytest
from detectron2.config import get_cfg

from agmm_d2.config import CHOICES, RENAMED_VALUES, add_agmm_config, validate_config

REPO = Path(__file__).resolve().parents[2]


def _option_table(path):
    """{option: [values]} of the docs' option table (its first section), in order, and
    {option: default}; {option: {old: new}} of its renamed-values table."""
    choices, renamed = path.read_text().split("\n## Renamed values")
    options, defaults = {}, {}
    rows = re.findall(r"^\| `([A-Z_.]+)` \| `([^`]+)`( \(default\))? \|", choices, re.M)
    for key, value, default in rows:
        options.setdefault(key, []).append(value)
        if default:
            defaults[key] = value
    renames = {}
    for key, old, new in re.findall(
        r"^\| `([A-Z_.]+)` \| `([^`]+)` \| `([^`]+)` \|", renamed, re.M
    ):
        renames.setdefault(key, {})[old] = new
    return options, defaults, renames


def test_docs_option_table_is_the_registry():
    options, defaults, renames = _option_table(REPO / "docs" / "options.md")
    assert options == {key: list(values) for key, values in CHOICES.items()}
    assert renames == RENAMED_VALUES
    cfg = get_cfg()
    add_agmm_config(cfg)
    for key, values in CHOICES.items():
        node = cfg
        for part in key.split("."):
            node = node[part]
        assert node == defaults[key] == next(iter(values)), key  # the config's default


def test_renamed_values_are_upgraded_in_the_one_validation():
    cfg = get_cfg()
    add_agmm_config(cfg)
    cfg.MODEL.AGMM.ABSENT_FROM = "sparse"
    notes = validate_config(cfg)
    assert cfg.MODEL.AGMM.ABSENT_FROM == "sparse_classes" and len(notes) == 1
    assert all(new in CHOICES[key] for key, renamed in RENAMED_VALUES.items()
               for new in renamed.values())
    cfg.SOLVER.OPTIMIZER = "ADAM"
    with pytest.raises(ValueError, match="SOLVER.OPTIMIZER is 'ADAM'; expected one of"):
        validate_config(cfg)
