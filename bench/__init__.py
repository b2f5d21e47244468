"""Benchmarks: `python -m bench` runs every one, `python -m bench redirect` just one."""
