"""The library behind ``datasets_prep/``: sparse labels from dense ones, label folders.

Usable from a notebook or a script as well as through the command-line tools::

    from agmm_d2.data.sparse_labels import make_clicks
    make_clicks("data/masks/train", "data/sparse", clicks=20)   # -> data/sparse/20clicks_seed0
"""
from .clicks import clicks_name, make_clicks
from .label_folders import (
                            dense_files,
                            image_size,
                            link_alias,
                            parse_ignore,
                            per_file_rng,
                            sparsify_folder,
                            write_image_classes,
                            write_label_png,
)
from .scribbles import make_scribbles

__all__ = ["clicks_name", "dense_files", "image_size", "link_alias", "make_clicks",
           "make_scribbles", "parse_ignore", "per_file_rng", "sparsify_folder",
           "write_image_classes", "write_label_png"]
