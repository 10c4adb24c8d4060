"""Identity: users, departments, roles, permission codes, tokens and the acting user (Actor)."""
