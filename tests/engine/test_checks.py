"""The engine's checks as rules that can fail: the input checks import no trainer and build
nothing on a GPU, and an optimizer is never silently replaced. (That the engine imports nothing
from the API or prediction: tests/project/test_layering.py.)"""
import ast
from pathlib import Path

import pytest
import torch

from agmm_d2.engine import Trainer, build_config, checks
from agmm_d2.utils.errors import InputError

REPO = Path(__file__).resolve().parents[2]
ENGINE = REPO / "agmm_d2" / "engine"
DEMO = REPO / "configs" / "synthetic/points_released.yaml"


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
