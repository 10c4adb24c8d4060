"""Mounts every domain router under /api/v1. Everything but the `public_router`s requires a
token: routers declare their permissions, and a route missing from the permission matrix
test fails the suite."""

from __future__ import annotations

from fastapi import APIRouter

from shiyu.audit.api import router as audit_router
from shiyu.auth.api import public_router as auth_public_router
from shiyu.auth.api import router as auth_router
from shiyu.classify.api import router as classifier_router
from shiyu.dashboard.api import public_router as dashboard_public_router
from shiyu.dashboard.api import router as dashboard_router
from shiyu.duplicates.api import router as duplicates_router
from shiyu.events.api import router as events_router
from shiyu.intake.api import public_router as intake_public_router
from shiyu.intake.hotline_api import router as hotline_router
from shiyu.intake.sensors_api import public_router as sensors_public_router
from shiyu.intake.sensors_api import router as sensors_router
from shiyu.jurisdiction.api import router as jurisdiction_router
from shiyu.metrics.api import router as metrics_router
from shiyu.notifications.api import router as notifications_router
from shiyu.open311.api import admin_router as open311_admin_router
from shiyu.replies.api import router as replies_router
from shiyu.reports.api import router as reports_router
from shiyu.routing.api import router as routing_router
from shiyu.warning.api import router as warnings_router

api_router = APIRouter(prefix="/api/v1")
# the events first: a request is matched against the routes in order (about 2 µs a route),
# and reporting and working events is most of the traffic (`POST /events` matched 28 other
# routes first, a tenth of its time in the web process)
api_router.include_router(events_router)
api_router.include_router(auth_public_router)
api_router.include_router(auth_router)
api_router.include_router(jurisdiction_router)
api_router.include_router(audit_router)
api_router.include_router(duplicates_router)
api_router.include_router(metrics_router)
api_router.include_router(notifications_router)
api_router.include_router(intake_public_router)
api_router.include_router(hotline_router)
api_router.include_router(open311_admin_router)
api_router.include_router(sensors_public_router)
api_router.include_router(sensors_router)
api_router.include_router(classifier_router)
api_router.include_router(routing_router)
api_router.include_router(replies_router)
api_router.include_router(warnings_router)
api_router.include_router(reports_router)
api_router.include_router(dashboard_router)
api_router.include_router(dashboard_public_router)
