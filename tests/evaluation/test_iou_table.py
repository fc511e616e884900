"""The IoU tables that training and evaluation print."""
from agmm_d2.evaluation.iou_table import format_iou_table, format_sparse_table


def test_every_iou_keeps_its_decimal():
    text = format_iou_table("val", {"mIoU": 87.5, "IoU-a": 75.0, "IoU-b": 100.0, "IoU-c": 87.46})
    assert text.splitlines()[0] == "val: mIoU 87.5"
    cells = [line.split("|")[2].strip() for line in text.splitlines()[3:]]
    assert cells == ["75.0", "100.0", "87.5"]


def test_sparse_table_keeps_its_decimals_and_marks_classes_without_pixels():
    metrics = {"mIoU_annotated_pixels": 50.0, "pixel_accuracy_annotated_pixels": 90.0,
               "annotated_pixels": 1200, "IoU-a": 60.0, "annotated_pixels-a": 1200,
               "IoU-b": 0.0, "annotated_pixels-b": 0}
    rows = [line.split("|")[1:4] for line in format_sparse_table("v", metrics).splitlines()[3:]]
    assert [[cell.strip() for cell in row] for row in rows] == [["a", "60.0", "1,200"],
                                                                ["b", "-", "0"]]
