"""Small builders using the application's own models: create_x(session, **overrides)."""
