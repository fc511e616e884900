"""What the Gaussian-mixture response R teaches, measured on a trained model's training images.

For each training image (whole image, no augmentation) with its sparse label, against its dense
label on the pixels that the sparse label leaves unlabeled (void excluded): how often argmax_k R
(over the classes the sparse label touches) and the model's own argmax_k P are the true class,
overall and per class, and the IoU of each; how often R is not a distribution (two or more
classes with R > 0.5 at a pixel); the gradient norm each loss term puts on the decoder features.
The command: ``tools/gmm_diagnostics.py`` (``agmm_d2.cli.gmm_diagnostics``).
"""
from pathlib import Path

import numpy as np
import torch
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.modeling import build_model

from agmm_d2.data import SparseSemSegDatasetMapper
from agmm_d2.data.label_io import read_label
from agmm_d2.engine import adapt_to_machine
from agmm_d2.engine.checkpoint import load_weights


@torch.no_grad()
def response_accuracy(cfg, model, records, num_classes):
    """Counts over unlabeled, non-void pixels: R right, P right, pixels, per class; confusion
    matrices (true, predicted) of argmax R and argmax P; R overlap."""
    mapper = SparseSemSegDatasetMapper(cfg, is_train=False)
    stats = {k: np.zeros(num_classes, np.int64) for k in ("pixels", "r_right", "p_right",
                                                            "in_sparse")}
    confusion = {k: np.zeros((num_classes, num_classes), np.int64) for k in ("r", "p")}
    overlap = total = 0
    for record in records:
        x = mapper(record)
        dense = torch.as_tensor(read_label(record["sem_seg_file_name"]).astype(np.int64))
        h, w = dense.shape
        x.setdefault(model.absent_from, x["sparse_classes"])
        view = model.training_view([x])
        r = model.criterion.response(*view)[0, :, :h, :w].cpu()
        p = view.logits[0, :, :h, :w].cpu()
        presence = x["sparse_classes"][None]  # R is compared among the classes the label touches
        unlabeled = (x["sparse_seg"] == model.ignore_value) & (dense < num_classes)
        present = presence[0].bool()
        r_pred = r.masked_fill(~present[:, None, None], -1).argmax(0)
        gt = dense[unlabeled]
        for key, pred in (("r", r_pred), ("p", p.argmax(0))):
            stats[key + "_right"] += np.bincount(gt[pred[unlabeled] == gt].numpy(),
                                                 minlength=num_classes)
            confusion[key] += np.bincount((gt * num_classes + pred[unlabeled]).numpy(),
                                          minlength=num_classes ** 2).reshape(confusion[key].shape)
        stats["pixels"] += np.bincount(gt.numpy(), minlength=num_classes)
        stats["in_sparse"] += np.bincount(gt[present[gt]].numpy(), minlength=num_classes)
        overlap += int(((r > 0.5).sum(0) >= 2)[unlabeled].sum())
        total += int(unlabeled.sum())
    return stats, confusion, overlap / max(total, 1)


def term_gradients(cfg, model, records):
    """L2 norm of d(term)/d(decoder features) for each loss term, on one training batch."""
    mapper = SparseSemSegDatasetMapper(cfg, is_train=True)
    batch = [mapper(r) for r in records]
    model.train()
    view = model.training_view(batch)
    # The loss as training computes it (its options, weights and GMM_CONFIDENCE; after warm-up).
    losses = model.criterion(*view)
    features = view.features
    norms = {}
    for key, loss in losses.items():
        if loss.requires_grad:
            (grad,) = torch.autograd.grad(loss, features, retain_graph=True, allow_unused=True)
            norms[key] = 0.0 if grad is None else float(grad.norm())
    model.eval()
    return norms


def diagnose(cfg, weights_files, dataset=None, images: int = 100) -> list:
    """The report of each weights file (a dict, as ``--markdown`` tabulates it) on up to
    ``images`` training images of ``dataset`` (default: DATASETS.TRAIN[0]) that have a dense
    label, spread evenly over the dataset."""
    torch.manual_seed(0)
    cfg, _ = adapt_to_machine(cfg)
    dataset = dataset or cfg.DATASETS.TRAIN[0]
    records = DatasetCatalog.get(dataset)
    step = max(1, len(records) // images)
    records = [r for r in records[::step][:images] if "sem_seg_file_name" in r]
    classes = MetadataCatalog.get(dataset).stuff_classes
    report = []
    for weights in weights_files:
        model = load_weights(build_model(cfg).eval(), weights)
        stats, confusion, overlap = response_accuracy(cfg, model, records, len(classes))
        iou = {k: np.diag(m) / np.maximum(m.sum(0) + m.sum(1) - np.diag(m), 1)
               for k, m in confusion.items()}
        pixels = stats["pixels"].sum()
        report.append({
            "weights": weights, "images": len(records),
            "unlabeled_pixels": int(pixels),
            "r_accuracy": float(stats["r_right"].sum() / pixels),
            "p_accuracy": float(stats["p_right"].sum() / pixels),
            "share_of_class_in_sparse_label": float(stats["in_sparse"].sum() / pixels),
            "r_overlap_share": overlap,
            "r_miou": float(iou["r"].mean()), "p_miou": float(iou["p"].mean()),
            "per_class": {c: {"pixels": int(n), "r_recall": float(r / max(n, 1)),
                              "p_recall": float(p / max(n, 1)), "r_iou": float(ri),
                              "p_iou": float(pi)}
                          for c, n, r, p, ri, pi in zip(classes, stats["pixels"], stats["r_right"],
                                                        stats["p_right"], iou["r"], iou["p"])},
            "feature_gradient_norms": term_gradients(cfg, model,
                                                     records[:cfg.SOLVER.IMS_PER_BATCH]),
        })
    return report


def markdown(report, classes) -> str:
    """The report as a Markdown table: IoU in % as "R / P" per class."""
    terms = list(report[0]["feature_gradient_norms"])
    head = (["weights", "R mIoU / P mIoU"] + [f"{c}: R / P" for c in classes]
            + ["R > 0.5 for 2+ classes"] + [f"grad {t}" for t in terms])
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in report:
        run_and_file = "/".join(Path(r["weights"]).parts[-2:])
        cells = [run_and_file, f"{100 * r['r_miou']:.1f} / {100 * r['p_miou']:.1f}"]
        cells += [f"{100 * r['per_class'][c]['r_iou']:.0f} / {100 * r['per_class'][c]['p_iou']:.0f}"
                  for c in classes]
        cells.append(f"{100 * r['r_overlap_share']:.0f} %")
        cells += [f"{r['feature_gradient_norms'].get(t, 0.0):.4f}" for t in terms]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)

