"""Intake channels: each turns what arrives into `events.schemas.IntakeData` and calls
`events.service.create` — one kind of event whatever the channel."""
