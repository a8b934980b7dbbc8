"""The compiler: syntax tree -> checked, lowered rules -> engine rulesets, one pass per module."""

from .pipeline import compile_protocol

__all__ = ["compile_protocol"]
