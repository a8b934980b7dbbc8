"""jk500-rules: protocol rules text -> durable-rules deviation audit of clinical-trial visit logs."""

from ._version import __version__

__all__ = ["__version__"]
