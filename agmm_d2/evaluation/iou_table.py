"""The mIoU and per-class IoU of SemSegEvaluator's results as a text table."""
from tabulate import tabulate

__all__ = ["format_iou_table"]


def format_iou_table(dataset_name: str, metrics: dict) -> str:
    """mIoU and per-class IoU (in %) of SemSegEvaluator's ``metrics``, as a Markdown table."""
    rows = [(key[len("IoU-"):], f"{value:.1f}") for key, value in metrics.items()
            if key.startswith("IoU-")]
    table = tabulate(rows, headers=["class", "IoU"], tablefmt="pipe", stralign="right")
    return f"{dataset_name}: mIoU {metrics['mIoU']:.1f}\n{table}"
