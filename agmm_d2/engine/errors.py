"""The error every engine entry point raises for input that cannot work."""
from ..utils.errors import InputError

__all__ = ["InputError"]
