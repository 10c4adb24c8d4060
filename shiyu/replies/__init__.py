"""答复质量: scoring official replies for relevance, completeness and timeliness."""
