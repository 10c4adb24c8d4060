"""工单合并: finding open events that describe the same problem as a new one."""
