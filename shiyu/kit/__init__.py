"""Domain-free helpers: types, clock, pagination, geometry."""
