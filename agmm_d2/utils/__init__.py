"""Small helpers shared by the package, the tools and the benchmarks."""
from .atomic import atomic_write, terminate_cleanly

__all__ = ["atomic_write", "terminate_cleanly"]
