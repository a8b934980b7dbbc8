"""The tool's version, at the bottom of the package so that every stage may name it."""

__version__ = "0.1.0"
