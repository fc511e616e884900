"""A plain vectorisation of the AGMM terms (docs/method.md) with autograd and no custom backward.

The baseline that ``agmm_benchmarks.bench_agmm_loss`` times ``agmm_loss`` against, and a second
reference that the tests compare ``agmm_loss``'s values and gradients with.
"""
import torch
import torch.nn.functional as F

IGNORE = 255
EPS = 1e-6


def vectorised_agmm_loss(features, logits, targets, valid, class_presence, ignore_value=IGNORE):
    """The four terms of docs/method.md (fixed variance, sum reduction) with plain autograd.

    Shapes as ``agmm_loss``; returns the same dict. Empty means are 0, as in ``agmm_loss``.
    """
    B, C, h, w = features.shape
    K, H, W = logits.shape[1:]
    dt = features.dtype
    annotated = targets != ignore_value
    is_ann = annotated & valid
    valid_f, ann_f = valid.to(dt), is_ann.to(dt)
    n_valid, n_ann = valid_f.sum().clamp(min=1), ann_f.sum().clamp(min=1)
    P = logits.softmax(1)

    ce = F.cross_entropy(logits, targets.masked_fill(~is_ann, ignore_value),
                         ignore_index=ignore_value, reduction="sum") / n_ann
    absent = -((1 - class_presence)[:, :, None, None] * torch.log(1 - P + EPS)).sum(1)
    absent = (absent * valid_f).sum() / n_valid

    # Prototypes: the features sampled at every annotated pixel, summed per (image, class).
    one_hot = F.one_hot(targets.masked_fill(~annotated, K), K + 1)[..., :K]
    one_hot = one_hot.permute(0, 3, 1, 2).to(dt)
    counts = one_hot.sum((2, 3))
    u = (counts > 0).to(dt)
    b_idx, y_idx, x_idx = annotated.nonzero(as_tuple=True)
    grid = torch.stack([(x_idx.to(dt) + 0.5) / W * 2 - 1, (y_idx.to(dt) + 0.5) / H * 2 - 1], -1)
    sums = features.new_zeros(B * K, C)
    for b in range(B):
        sel = b_idx == b
        if not sel.any():
            continue
        sampled = F.grid_sample(features[b:b + 1], grid[sel][None, None], mode="bilinear",
                                padding_mode="border", align_corners=False)[0, :, 0].t()
        sums = sums.index_add(0, b * K + targets[b][annotated[b]], sampled)
    protos = sums.view(B, K, C) / (counts[..., None] + EPS)

    n_imgs = u.sum(0)
    vecs = protos.sum(0) * (n_imgs / (n_imgs + EPS))[:, None]
    vecs = vecs[n_imgs > 0]
    i, j = torch.triu_indices(len(vecs), len(vecs), 1)
    d = (vecs[i] - vecs[j]).abs().mean(1)
    proto = torch.exp(-d * d).sum() / (len(i) + EPS)

    keep = F.interpolate(valid_f[:, None], size=(h, w), mode="bilinear", align_corners=False)
    a = torch.cdist(features.flatten(2).transpose(1, 2), protos, p=1).transpose(1, 2) / C
    a = a.reshape(B, K, h, w) * u[:, :, None, None] * keep
    R = F.interpolate(torch.exp(-a * a), size=(H, W), mode="bilinear", align_corners=False)
    R = R * u[:, :, None, None]
    weight = (u / (u.sum(1, keepdim=True) + EPS))[:, :, None, None]
    gmm_unlabeled = -(R * torch.log(P + EPS) + (1 - R) * torch.log(1 - P + EPS)) / 2
    gmm_unlabeled = ((gmm_unlabeled * weight).sum(1) * valid_f).sum() / n_valid
    gmm_labeled = -(one_hot * torch.log(R + EPS) + (1 - one_hot) * torch.log(1 - R + EPS)) / 2
    gmm_labeled = ((gmm_labeled * weight).sum(1) * ann_f).sum() / n_ann
    return {"loss_sem_seg": ce, "loss_absent": absent, "loss_proto": proto,
            "loss_gmm": gmm_unlabeled + gmm_labeled}
