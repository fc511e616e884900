"""Image sizes as the data loader sees them: detectron2's ``read_image`` turns a photo by its
EXIF orientation, so a camera JPEG stored 4000x3000 with orientation 6 or 8 is read 3000x4000.
Every size this project compares with a label's comes from here."""
from typing import Tuple

from PIL import Image

__all__ = ["EXIF_ORIENTATION", "loaded_size"]

EXIF_ORIENTATION = 0x0112
# Orientations that rotate by 90 degrees (or transpose): width and height swap.
SWAPPED_SIDES = (5, 6, 7, 8)


def _orientation(image: Image.Image):
    try:
        return image.getexif().get(EXIF_ORIENTATION)
    except Exception:  # a damaged EXIF block: read_image ignores it as well
        return None


def loaded_size(image: Image.Image) -> Tuple[int, int]:
    """(width, height) of an opened image after its EXIF orientation, as ``read_image`` returns
    it; read from the header, without decoding the pixels."""
    width, height = image.size
    return (height, width) if _orientation(image) in SWAPPED_SIDES else (width, height)
