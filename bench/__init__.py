"""Benchmarks: each module here measures one figure set; `python -m bench` runs them all."""
