from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shiyu.kit.schemas import ORMModel

CLIENT_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"


class ClientCreate(BaseModel):
    name: str = Field(pattern=CLIENT_NAME, description="Machine name, e.g. fixmystreet")
    jurisdiction_code: str | None = Field(
        default=None,
        pattern=r"^\d{12,23}$",
        description="Unit that receives the client's reports (default: the caller's unit); "
        "reports located outside it are refused.",
    )


class ClientRead(ORMModel):
    id: int
    name: str
    key_prefix: str
    jurisdiction_code: str
    is_active: bool
    created_at: datetime
    deactivated_at: datetime | None


class ClientCreated(ClientRead):
    #: shown once: only its hash is stored
    api_key: str
