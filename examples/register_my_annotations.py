"""Registration code for photos annotated in LabelMe, CVAT or Label Studio, for
``tools/train_net.py --register`` (or to import).

A stand-in for your photos and your LabelMe files (synthetic images with 20 clicks and a
scribble each) is written to ``output/my_photos`` by the first command of docs/annotations.md
(``agmm_d2.data.annotations.write_demo_labelme_export``).

Replace the folder, the export (a LabelMe folder, a CVAT ``annotations.xml``, a Label Studio
JSON export) and the class names by yours. The export is rasterised once into
``<export>_sparse/`` and again only when it changes; 20 % of the annotated images are held out
and evaluated on their annotated pixels.
"""
from agmm_d2.data.annotations import register_annotations

CLASSES = ["background", "stripes", "checker", "dots", "grain", "waves"]

register_annotations("my_photos", "output/my_photos", "output/my_photos", classes=CLASSES,
                     holdout=0.2)
