"""The demo trains its own model at demo time (nothing is shipped in git)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from shiyu.classify import service
from shiyu.config import Settings
from shiyu.events import service as events
from shiyu.events.enums import Channel
from shiyu.events.schemas import IntakeData
from tests.classify.data import sample, write_csv
from tests.factories.world import World

TEXTS = {
    "SJ0101": ("垃圾堆积", "小区门口垃圾堆积多日无人清运，气味难闻"),
    "SJ0501": ("无照游商", "路口有流动摊贩占道经营，影响通行"),
    "BJ0101": ("井盖缺失", "人行道上的井盖丢失，行人容易跌落"),
}


def test_demo_model_from_simulated_events(
    session: Session, settings: Settings, world: World
) -> None:
    lng, lat = world.city.centres[world.grid_a]
    for code, (title, detail) in TEXTS.items():
        for i in range(4):
            events.create(
                session,
                settings,
                IntakeData(
                    channel=Channel.grid_patrol,
                    title=f"{title}{i}",
                    description=detail,
                    category_code=code,
                    lng=lng,
                    lat=lat,
                ),
                actor=None,
            )
    model = service.ensure_demo_model(session, settings)
    assert model is not None and model["is_active"]
    # labels are top-level categories (the world's own events have none)
    assert set(model["classes"]) == {"SJ01", "SJ05", "BJ01"}
    assert service.ensure_demo_model(session, settings) is None  # once
    loaded = service.active(session, settings)
    assert loaded is not None
    assert loaded.predict_many([("井盖没了", "路上井盖缺失")])[0][0].label == "BJ01"


def test_demo_model_from_a_labelled_csv(
    session: Session, settings: Settings, world: World, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "train.csv", sample(150))
    model = service.ensure_demo_model(
        session, settings.model_copy(update={"classifier_training_data": str(path)})
    )
    assert model is not None and len(model["classes"]) == 7 and model["rows"] == 150
