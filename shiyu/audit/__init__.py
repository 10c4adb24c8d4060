"""The action trail (工作动态留痕): append-only, hash-chained, written by services."""
