"""The inference model as one image tensor in, class probabilities out: what is exported."""
import torch
from torch import Tensor, nn

__all__ = ["ImageToProbabilities"]


class ImageToProbabilities(nn.Module):
    """``AGMMSemanticSegmentor.image_probabilities`` as a module with a tensor interface.

    Normalization, padding to the size divisibility, backbone, head, upsampling, crop back to the
    input size and softmax all run inside the graph, so the exported file takes images of any
    height and width. Test-time augmentation and the sliding window are not part of it.
    """

    def __init__(self, segmentor: nn.Module):
        """
        Args:
            segmentor: an ``AGMMSemanticSegmentor`` (its criterion is not used).
        """
        super().__init__()
        self.segmentor = segmentor.eval()

    def forward(self, image: Tensor) -> Tensor:
        """
        Args:
            image: (1, 3, H, W) uint8 or float image in the config's INPUT.FORMAT, 0..255.

        Returns:
            (1, K, H, W) float32 class probabilities (ids = argmax over dim 1).
        """
        return self.segmentor.image_probabilities(image)


def example_image(height: int, width: int) -> Tensor:
    """(1, 3, height, width) uint8 random image: the example input of tracing and export."""
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (1, 3, height, width), generator=generator, dtype=torch.uint8)
