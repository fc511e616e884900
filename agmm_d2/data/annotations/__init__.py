"""Importers of the exports of labeling tools (LabelMe, CVAT, Label Studio) into sparse labels.

    from agmm_d2.data.annotations import register_annotations
    register_annotations("my_photos", "photos/", "annotations.xml", classes="classes.txt",
                         holdout=0.2)            # -> my_photos_train, my_photos_val

Each tool's module reads its export into ``ImageShapes`` (pixel coordinates, ``shapes.py``);
``rasterize.py`` turns them into a sparse label; ``importer.py`` writes the label folder and
``register.py`` registers it. docs/annotations.md describes formats, conventions and options.
"""
from .cvat import read_cvat
from .importer import FORMATS, ImportReport, detect_format, import_annotations, read_export
from .label_studio import decode_brush_rle, read_label_studio
from .labelme import read_labelme
from .rasterize import OVERLAP_RULES, RasterOptions, rasterize, shape_mask
from .register import annotations_folder, register_annotations, split_keys
from .shapes import KINDS, ImageShapes, Shape, class_ids, read_class_list
from .stand_in import write_demo_labelme_export

__all__ = ["FORMATS", "ImageShapes", "ImportReport", "KINDS", "OVERLAP_RULES", "RasterOptions",
           "Shape", "annotations_folder", "class_ids", "decode_brush_rle", "detect_format",
           "import_annotations", "read_class_list", "read_cvat", "read_export",
           "read_label_studio", "read_labelme", "rasterize", "register_annotations",
           "shape_mask", "split_keys", "write_demo_labelme_export"]
