"""The mIoU and per-class IoU of SemSegEvaluator's results as a text table."""
from tabulate import tabulate

__all__ = ["format_iou_table"]


def format_iou_table(dataset_name: str, metrics: dict) -> str:
    """mIoU and per-class IoU (in %) of SemSegEvaluator's ``metrics``, as a Markdown table, and
    the pixels that were not evaluated when the metrics say (CheckedSemSegEvaluator)."""
    rows = [(key[len("IoU-"):], f"{value:.1f}") for key, value in metrics.items()
            if key.startswith("IoU-")]
    table = tabulate(rows, headers=["class", "IoU"], tablefmt="pipe", stralign="right")
    text = f"{dataset_name}: mIoU {metrics['mIoU']:.1f}\n{table}"
    if "ignored_pixels" in metrics:
        ignored, pixels = metrics["ignored_pixels"], metrics["labelled_pixels"]
        text += (f"\nignored: {ignored:,} of {pixels:,} pixels "
                 f"({100 * ignored / max(pixels, 1):.2f} %)")
        if metrics.get("out_of_range_pixels"):
            text += (f", of which {metrics['out_of_range_pixels']:,} with values outside the "
                     "classes (TEST.OUT_OF_RANGE_LABELS ignore)")
    return text
