"""The mIoU and per-class IoU of SemSegEvaluator's results as a text table."""
from tabulate import tabulate

__all__ = ["RESULT_TABLES", "format_iou_table", "format_sparse_table"]


def format_iou_table(dataset_name: str, metrics: dict) -> str:
    """mIoU and per-class IoU (in %) of SemSegEvaluator's ``metrics``, as a Markdown table, and
    the pixels that were not evaluated when the metrics say (CheckedSemSegEvaluator)."""
    rows = [(key[len("IoU-"):], f"{value:.1f}") for key, value in metrics.items()
            if key.startswith("IoU-")]
    # The cells are formatted already; tabulate would otherwise print 75.0 as "75".
    table = tabulate(rows, headers=["class", "IoU"], tablefmt="pipe", stralign="right",
                     disable_numparse=True)
    text = f"{dataset_name}: mIoU {metrics['mIoU']:.1f}\n{table}"
    if "ignored_pixels" in metrics:
        ignored, pixels = metrics["ignored_pixels"], metrics["labelled_pixels"]
        text += (f"\nignored: {ignored:,} of {pixels:,} pixels "
                 f"({100 * ignored / max(pixels, 1):.2f} %)")
        if metrics.get("out_of_range_pixels"):
            text += (f", of which {metrics['out_of_range_pixels']:,} with values outside the "
                     "classes (TEST.OUT_OF_RANGE_LABELS ignore)")
    return text


def format_sparse_table(dataset_name: str, metrics: dict) -> str:
    """SparseSemSegEvaluator's ``metrics`` as a Markdown table titled as what they are: scores
    on the annotated pixels only, not dense mIoU."""
    classes = [key[len("IoU-"):] for key in metrics if key.startswith("IoU-")]
    rows = [(name, "-" if metrics["annotated_pixels-" + name] == 0 else
             f"{metrics['IoU-' + name]:.1f}", f"{metrics['annotated_pixels-' + name]:,}")
            for name in classes]
    table = tabulate(rows, headers=["class", "IoU", "annotated pixels"], tablefmt="pipe",
                     stralign="right", disable_numparse=True)
    return (f"{dataset_name}, annotated pixels only (sparse labels; not dense mIoU): "
            f"mIoU {metrics['mIoU_annotated_pixels']:.1f}, pixel accuracy "
            f"{metrics['pixel_accuracy_annotated_pixels']:.1f}, over "
            f"{metrics['annotated_pixels']:,} annotated pixels\n{table}")


# result key of an evaluator -> the table of its metrics
RESULT_TABLES = {"sem_seg": format_iou_table, "sparse_sem_seg": format_sparse_table}
