"""On-demand reliability checks too slow for every test run: `python -m reliability.memcheck`, `.soak`."""
