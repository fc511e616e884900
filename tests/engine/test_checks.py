"""The code's organisation as rules that can fail: one registry of option values (and its docs
table), an engine that imports no API, input checks that import no trainer and build nothing on
a GPU, and an optimizer that is never silently replaced."""
import ast
import re
from pathlib import Path

import pytest
import torch
from detectron2.config import get_cfg

from agmm_d2.config import CHOICES, RENAMED_VALUES, add_agmm_config, validate_config
from agmm_d2.engine import Trainer, build_config, checks
from agmm_d2.utils.errors import InputError

REPO = Path(__file__).resolve().parents[1]
ENGINE = REPO / "agmm_d2" / "engine"
DEMO = REPO / "configs" / "synthetic/points_released.yaml"


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


def test_build_config_rejects_an_unknown_optimizer():
    with pytest.raises(InputError, match="SOLVER.OPTIMIZER is 'ADAM'"):
        build_config(DEMO, ["SOLVER.OPTIMIZER", "ADAM"])


def test_unknown_optimizer_raises_in_the_trainer():
    cfg = build_config(DEMO).clone()
    cfg.defrost()
    cfg.SOLVER.OPTIMIZER = "ADAM"  # past the config check, e.g. a config built by hand
    with pytest.raises(NotImplementedError, match="ADAM"):
        Trainer.build_optimizer(cfg, torch.nn.Linear(2, 2))


def _engine_imports(module: str):
    """The absolute module names that agmm_d2/engine/<module>.py imports."""
    tree = ast.parse((ENGINE / f"{module}.py").read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = "agmm_d2." + ("engine." if node.level == 1 else "") if node.level else ""
            names.append(base + (node.module or ""))
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return names


def test_engine_imports_nothing_from_the_api_or_prediction():
    for path in ENGINE.glob("*.py"):
        imported = _engine_imports(path.stem)
        assert not [m for m in imported if m.startswith(("agmm_d2.api", "agmm_d2.predict"))], path


def test_input_checks_import_no_trainer():
    seen, todo = set(), ["checks"]
    while todo:  # the engine modules that checks.py reaches, directly or not
        module = todo.pop()
        seen.add(module)
        todo += [m.split(".")[-1] for m in _engine_imports(module)
                 if m.startswith("agmm_d2.engine.") and m.split(".")[-1] not in seen]
    assert "trainer" not in seen, seen


def test_weights_check_builds_the_model_on_the_cpu(monkeypatch, tmp_path):
    # As on a GPU machine: MODEL.DEVICE cuda is kept by adapt_to_machine.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    cfg = build_config(DEMO, ["MODEL.DEVICE", "cuda"])
    devices = []

    def spy(cfg):
        model = build_model_on_cpu(cfg)
        devices.extend({p.device.type for p in model.parameters()})
        return model

    build_model_on_cpu = checks.build_model_on_cpu
    monkeypatch.setattr(checks, "build_model_on_cpu", spy)
    weights = tmp_path / "model.pth"
    torch.save({"model": build_model_on_cpu(cfg).state_dict()}, weights)
    cfg = build_config(DEMO, ["MODEL.DEVICE", "cuda", "MODEL.WEIGHTS", str(weights)])
    assert checks.check_weights(cfg, eval_only=True, resume=False) == []
    assert devices == ["cpu"]
