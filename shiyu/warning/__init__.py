"""Early warning (预警): surges of daily counts, repeated appeals and hot issues."""
