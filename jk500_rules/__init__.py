"""jk500-rules: protocol rules text -> durable-rules deviation audit of clinical-trial visit logs."""

__version__ = "0.1.0"
