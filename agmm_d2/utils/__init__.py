"""Small helpers shared by the package, the tools and the benchmarks."""
from .atomic import atomic_write

__all__ = ["atomic_write"]
