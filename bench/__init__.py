"""Benchmarks of Shiyu: `python -m bench.run` (what `make bench` runs).

Builds the demo city in a temporary database, serves it on a loopback port and measures the
point→grid lookup over HTTP and in process, next to a trivial endpoint as the machine's
reference. Nothing here is imported by `shiyu` itself.
"""
