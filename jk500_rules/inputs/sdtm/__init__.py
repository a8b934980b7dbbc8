"""SDTM input: domain files (XPT or CSV) read into the protocol's events through a TOML mapping."""

from .mapping_parser import load_mapping
from .study import read_study

__all__ = ["load_mapping", "read_study"]
