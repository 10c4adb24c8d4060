"""Mounts every domain router under /api/v1. Everything but `auth.public_router` requires a
token: routers declare their permissions, so a route without one is a test failure."""

from __future__ import annotations

from fastapi import APIRouter

from shiyu.audit.api import router as audit_router
from shiyu.auth.api import public_router as auth_public_router
from shiyu.auth.api import router as auth_router
from shiyu.jurisdiction.api import router as jurisdiction_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(auth_public_router)
api_router.include_router(auth_router)
api_router.include_router(jurisdiction_router)
api_router.include_router(audit_router)
