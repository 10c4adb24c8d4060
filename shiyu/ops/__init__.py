"""Operations: backup and restore, the configuration reference, metrics."""
