"""Analysis reports (研判报告): volumes and trends, categories, hot issues, surges, overdue
units and the three rates of a day, week or quarter, as HTML or PDF."""
