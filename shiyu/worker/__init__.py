"""Periodic jobs, run inside `shiyu serve` (every process; leases keep each job single-run)."""
