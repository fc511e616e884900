"""The meta-architecture, its head and its test-time inference, on the CPU."""
from pathlib import Path

import numpy as np
import pytest
import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.config import get_cfg
from detectron2.engine import DefaultPredictor
from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

from agmm_d2 import add_agmm_config
from agmm_d2.data import load_sparse_sem_seg
from agmm_d2.data.mapper import SparseSemSegDatasetMapper
from agmm_d2.modeling import AGMMSemanticSegmentor
from agmm_d2.modeling.test_time import SemSegInference, sliding_window, window_starts

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
LEAF_CONFIGS = sorted(p for p in CONFIGS.glob("*/*.yaml") if not p.name.startswith("Base-"))


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One intra-op thread: small models gain little from more, and stay fast on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_cfg(config_file=CONFIGS / "synthetic/points_released.yaml", *opts):
    cfg = get_cfg()
    add_agmm_config(cfg)
    cfg.merge_from_file(str(config_file))
    cfg.merge_from_list(["MODEL.DEVICE", "cpu", "MODEL.RESNETS.NORM", "BN",
                         "MODEL.SEM_SEG_HEAD.NORM", "BN", *opts])
    return cfg


def tiny_model(*opts):
    """The points config's architecture, narrower still, in eval mode with fixed weights."""
    torch.manual_seed(0)
    cfg = make_cfg(CONFIGS / "synthetic/points_released.yaml", "MODEL.RESNETS.WIDTH_PER_GROUP", 4,
                   "MODEL.RESNETS.RES2_OUT_CHANNELS", 16, "MODEL.RESNETS.STEM_OUT_CHANNELS", 8,
                   *opts)
    return build_model(cfg).eval()


@pytest.mark.slow
def test_every_config_builds_a_model_that_predicts():
    """Each leaf config merges (with its bases), builds on the CPU and predicts a small image."""
    assert {"voc/points_released.yaml", "voc/scribbles_released.yaml",
            "cityscapes/20clicks_released.yaml", "cityscapes/50clicks_released.yaml",
            "cityscapes/100clicks_released.yaml", "synthetic/demo.yaml"} <= {
        p.relative_to(CONFIGS).as_posix() for p in LEAF_CONFIGS}
    image = torch.randint(0, 256, (3, 32, 40), dtype=torch.uint8)
    for path in LEAF_CONFIGS:
        cfg = make_cfg(path, "INPUT.CROP.SIZE", "(24, 24)")  # small sliding windows too
        model = build_model(cfg).eval()
        assert isinstance(model, AGMMSemanticSegmentor), path.name
        assert model.criterion.enabled == cfg.MODEL.AGMM.ENABLED, path.name
        with torch.no_grad():
            out = model([{"image": image, "height": 32, "width": 40}])
        assert out[0]["sem_seg"].shape == (cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES, 32, 40), path.name


def test_base_configs_merge():
    for path in sorted(CONFIGS.glob("Base-*.yaml")):
        make_cfg(path)


def test_head_returns_decoder_features_and_full_resolution_logits():
    model = tiny_model()
    images = torch.randn(2, 3, 64, 48)
    features, logits = model.sem_seg_head(model.backbone(images))
    assert features.shape == (2, 64, 16, 12)  # CONVS_DIM at stride 4
    assert logits.shape == (2, 6, 64, 48)


def _fixed_batch(root, n=4, size=64):
    cfg = make_cfg(CONFIGS / "synthetic/points_released.yaml", "INPUT.CROP.SIZE",
                   f"({size}, {size})", "INPUT.LONG_SIDE_SCALE_RANGE", "(1.0, 1.0)")
    base = Path(root) / "agmm_synthetic"
    dicts = load_sparse_sem_seg(base / "images" / "train", base / "point" / "train",
                                image_ext=".png")[:n]
    mapper = SparseSemSegDatasetMapper(cfg, is_train=True)
    return cfg, [mapper(d) for d in dicts]


@pytest.mark.slow
def test_demo_config_losses_are_finite_and_decrease(tiny_synthetic):
    """~30 SGD steps of the demo config on one fixed batch lower the total AGMM loss."""
    cfg, batch = _fixed_batch(tiny_synthetic)
    torch.manual_seed(0)
    model = build_model(cfg).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    totals = []
    with EventStorage():
        for _ in range(30):
            losses = model(batch)
            assert set(losses) == {"loss_sem_seg", "loss_absent", "loss_proto", "loss_gmm"}
            assert all(torch.isfinite(v) for v in losses.values()), losses
            total = sum(losses.values())
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
            totals.append(total.item())
    assert sum(totals[-5:]) / 5 < 0.8 * sum(totals[:5]) / 5, totals


def test_baseline_computes_partial_cross_entropy_only(tiny_synthetic):
    cfg, batch = _fixed_batch(tiny_synthetic, n=2)
    cfg.MODEL.AGMM.ENABLED = False
    model = build_model(cfg).train()
    with EventStorage():
        losses = model(batch)
    assert set(losses) == {"loss_sem_seg"} and torch.isfinite(losses["loss_sem_seg"])


def test_training_batch_is_padded_with_ignore_and_invalid():
    """Images of different sizes: targets are padded with 255 and valid with False."""
    seen = {}

    def spy(features, logits, targets, valid, class_presence, iteration=None):
        seen.update(features=features, logits=logits, targets=targets, valid=valid,
                    class_presence=class_presence, iteration=iteration)
        return {"loss_sem_seg": logits.sum() * 0}

    model = tiny_model("MODEL.RESNETS.RES4_DILATION", 2, "MODEL.RESNETS.RES5_DILATION", 4)
    model = AGMMSemanticSegmentor(backbone=model.backbone, sem_seg_head=model.sem_seg_head,
                                  criterion=spy, pixel_mean=[128.0] * 3, pixel_std=[64.0] * 3)
    model.train()
    sizes = [(50, 60), (40, 33)]
    batch = [{"image": torch.randint(0, 256, (3, h, w), dtype=torch.uint8),
              "sparse_seg": torch.full((h, w), 2, dtype=torch.long),
              "valid": torch.ones(h, w, dtype=torch.bool),
              "sparse_classes": torch.eye(6)[2]} for h, w in sizes]
    model(batch)
    targets, valid = seen["targets"], seen["valid"]
    assert targets.shape == valid.shape == (2, 56, 64)  # multiples of the stride 8
    assert seen["logits"].shape == (2, 6, 56, 64) and seen["features"].shape[-2:] == (14, 16)
    assert valid.dtype == torch.bool and seen["class_presence"].shape == (2, 6)
    for i, (h, w) in enumerate(sizes):
        assert valid[i, :h, :w].all() and valid[i].sum() == h * w
        assert (targets[i, :h, :w] == 2).all() and (targets[i][~valid[i]] == 255).all()


def test_inference_is_at_the_original_size_in_every_mode():
    model = tiny_model()
    image = torch.randint(0, 256, (3, 48, 64), dtype=torch.uint8)
    # The mapper resized a 96 x 128 original to 48 x 64: outputs come back at 96 x 128.
    inputs = [{"image": image, "height": 96, "width": 128}]
    modes = {
        "plain": SemSegInference(),
        "multi-scale + flip": SemSegInference(scales=(0.5, 1.0, 1.5), flip=True),
        "sliding window": SemSegInference(window=(32, 32), overlap=2 / 3),
        "both": SemSegInference(scales=(0.75, 1.25), flip=True, window=(32, 32)),
    }
    with torch.no_grad():
        for name, mode in modes.items():
            model.test_time = mode
            probs = model(inputs)[0]["sem_seg"]
            assert probs.shape == (6, 96, 128), name
            assert torch.allclose(probs.sum(0), torch.ones(96, 128), atol=1e-4), name


def test_sliding_window_covering_the_image_equals_plain_inference():
    model = tiny_model()
    inputs = [{"image": torch.randint(0, 256, (3, 40, 56), dtype=torch.uint8)}]
    with torch.no_grad():
        plain = model(inputs)[0]["sem_seg"]
        model.test_time = SemSegInference(window=(64, 64))
        assert torch.equal(model(inputs)[0]["sem_seg"], plain)
        model.test_time = SemSegInference(window=(24, 24))
        assert not torch.allclose(model(inputs)[0]["sem_seg"], plain)


def test_test_time_options_come_from_the_config():
    cfg = make_cfg(CONFIGS / "voc/points_released.yaml")
    voc = SemSegInference(cfg)
    assert voc.scales == (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0) and voc.flip and voc.window is None
    city = SemSegInference(make_cfg(CONFIGS / "cityscapes/50clicks_released.yaml"))
    assert city.scales == (1.0,) and not city.flip
    assert city.window == (721, 721) and city.overlap == pytest.approx(2 / 3)
    demo = SemSegInference(make_cfg())
    assert demo.scales == (1.0,) and not demo.flip and demo.window is None


@pytest.mark.parametrize("length,window,overlap,expected", [
    (10, 10, 2 / 3, [0]),
    (10, 20, 2 / 3, [0]),
    (1024, 721, 2 / 3, [0, 241, 303]),
    (12, 6, 2 / 3, [0, 2, 4, 6]),
    (12, 6, 0.0, [0, 6]),
    (13, 6, 0.0, [0, 6, 7]),
])
def test_window_starts_cover_the_image(length, window, overlap, expected):
    assert window_starts(length, window, overlap) == expected


def test_sliding_window_of_a_pixelwise_predictor_is_exact():
    """Averaging overlapping windows of a per-pixel function reproduces it everywhere."""
    image = torch.randn(2, 3, 37, 50)

    def predict(x):
        return x[:, :2].softmax(dim=1)

    out = sliding_window(predict, image, window=(16, 20), overlap=2 / 3)
    assert torch.allclose(out, predict(image), atol=1e-6)


def test_test_time_inference_rejects_bad_options():
    with pytest.raises(ValueError):
        SemSegInference(scales=())
    with pytest.raises(ValueError):
        SemSegInference(overlap=1.0)
    with pytest.raises(ValueError):
        SemSegInference(window=(0, 10))


def test_default_predictor_works_unchanged(tmp_path):
    """detectron2's DefaultPredictor loads a checkpoint and returns (K, H, W) at the input size."""
    opts = ["MODEL.RESNETS.WIDTH_PER_GROUP", 4, "MODEL.RESNETS.RES2_OUT_CHANNELS", 16]
    DetectionCheckpointer(build_model(make_cfg(CONFIGS / "synthetic/points_released.yaml", *opts)),
                          save_dir=str(tmp_path)).save("model")
    cfg = make_cfg(CONFIGS / "synthetic/points_released.yaml", *opts,
                   "MODEL.WEIGHTS", str(tmp_path / "model.pth"))
    image = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)  # BGR
    sem_seg = DefaultPredictor(cfg)(image)["sem_seg"]
    assert sem_seg.shape == (6, 50, 70)
