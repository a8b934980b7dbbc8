"""Live auditing: the incremental audit and the watch loop over growing logs."""
