"""Shiyu (市域): an open platform for city-level social governance."""

__version__ = "0.1.0"
