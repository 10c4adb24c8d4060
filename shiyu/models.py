"""Imports every domain's models so that metadata (migrations, tests) sees all tables."""

from __future__ import annotations


def load_all() -> None:
    import shiyu.audit.models
    import shiyu.auth.models
    import shiyu.classify.models
    import shiyu.duplicates.models
    import shiyu.events.models
    import shiyu.intake.hotline_models
    import shiyu.intake.sensor_models
    import shiyu.jurisdiction.models
    import shiyu.kit.leases
    import shiyu.notifications.models
    import shiyu.open311.models
    import shiyu.replies.models
    import shiyu.routing.models
    import shiyu.warning.models  # noqa: F401
