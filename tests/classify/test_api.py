"""Prediction, model upload and activation through the real HTTP server; hot swap."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session

from shiyu.classify import service
from shiyu.classify.models import ClassifierModel
from shiyu.config import Settings
from tests.classify.data import model_bytes
from tests.classify.test_modelfile import _with_header
from tests.factories.world import World

PREDICT = "/api/v1/classifier/predict"


def _upload(client: httpx.Client, headers: dict[str, str], data: bytes, name: str) -> int:
    resp = client.post(
        "/api/v1/classifier/models",
        files={"file": (name, data, "application/octet-stream")},
        data={"name": name},
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    model_id: int = resp.json()["id"]
    return model_id


def _activate(client: httpx.Client, headers: dict[str, str], model_id: int) -> httpx.Response:
    return client.post(
        "/api/v1/classifier/models/activate", json={"model_id": model_id}, headers=headers
    )


def test_predict_without_a_model_is_409(client: httpx.Client, world: World) -> None:
    resp = client.post(
        PREDICT, json={"title": "路灯不亮"}, headers=world.headers(client, "dispatcher")
    )
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "classifier.no_model"


def test_upload_activate_predict(client: httpx.Client, world: World) -> None:
    admin = world.headers(client, "admin")
    model_id = _upload(client, admin, model_bytes(), "first")
    listed = client.get("/api/v1/classifier/models", headers=admin).json()
    assert listed[0]["id"] == model_id and listed[0]["is_active"] is False
    assert listed[0]["libraries"]["scikit-learn"].startswith("1.9")
    assert _activate(client, admin, model_id).status_code == 200

    staff = world.headers(client, "grid_worker")
    resp = client.post(
        PREDICT,
        json={"title": "学校周边黑网吧接纳未成年人", "description": "严重影响学生学习", "top_k": 3},
        headers=staff,
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert len(body["top"]) == 3 and body["label"] == body["top"][0]["label"]
    assert body["confidence"] == body["top"][0]["probability"]
    assert body["model_id"] == model_id
    # the seeded catalogue names the seven message-board classes (AP01..AP07)
    assert body["category_code"] is not None and body["category_code"].startswith("AP")

    status = client.get("/api/v1/classifier/status", headers=staff).json()
    assert status["active"] is True and status["model"]["id"] == model_id


def test_bad_input_is_refused_or_classified(client: httpx.Client, world: World) -> None:
    admin = world.headers(client, "admin")
    assert _activate(client, admin, _upload(client, admin, model_bytes(), "m")).status_code == 200
    headers = world.headers(client, "dispatcher")

    empty = client.post(PREDICT, json={"title": "   "}, headers=headers)
    assert empty.status_code == 422
    assert "title" in str(empty.json()["error"]["details"])
    too_long = client.post(PREDICT, json={"title": "路" * 20_001}, headers=headers)
    assert too_long.status_code == 422
    assert "title" in str(too_long.json()["error"]["details"])
    long_detail = client.post(
        PREDICT, json={"title": "噪音", "description": "吵" * 20_001}, headers=headers
    )
    assert long_detail.status_code == 422
    assert "description" in str(long_detail.json()["error"]["details"])
    for odd in (
        "😡😡😡 小區噪音擾民 🚧",
        "<script>alert(1)</script><b>路灯</b>不亮",
        "ＡＢＣ１２３ road lamp broken Straßenlaterne кaпут",
        "\x00\x07",
        "🙂",
    ):
        resp = client.post(PREDICT, json={"title": odd, "description": odd}, headers=headers)
        assert resp.status_code == 200, (odd, resp.text)
        assert resp.json()["label"]


def test_incompatible_model_is_refused_and_the_old_stays_active(
    client: httpx.Client, world: World, session: Session
) -> None:
    admin = world.headers(client, "admin")
    good = _upload(client, admin, model_bytes(), "good")
    assert _activate(client, admin, good).status_code == 200

    libraries = {**service.load_bytes(model_bytes()).header.libraries, "scikit-learn": "1.5.0"}
    old_file = _with_header(model_bytes(), libraries=libraries)
    refused = client.post(
        "/api/v1/classifier/models",
        files={"file": ("old.model", old_file, "application/octet-stream")},
        headers=admin,
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "classifier.incompatible_model"
    assert "1.5.0" in refused.json()["error"]["message"]

    # a file stored by an older installation (before an upgrade of scikit-learn)
    stale = ClassifierModel(
        name="stale", sha256="0" * 64, size=len(old_file), header={}, payload=old_file
    )
    session.add(stale)
    session.flush()
    resp = _activate(client, admin, stale.id)
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "classifier.incompatible_model"

    status = client.get("/api/v1/classifier/status", headers=admin).json()
    assert status["model"]["id"] == good
    resp = client.post(PREDICT, json={"title": "医院乱收费"}, headers=admin)
    assert resp.status_code == 200 and resp.json()["model_id"] == good


def test_hot_swap_reaches_another_process(
    client: httpx.Client, world: World, session: Session, settings: Settings
) -> None:
    """Activation through the API swaps the model of the serving process at once; another
    process (a second holder with its own cache, as in another worker) notices the new
    version token in the database without a restart."""
    admin = world.headers(client, "admin")
    other_process = service.ModelHolder()
    fast = settings.model_copy(update={"classifier_check_seconds": 0.0})

    first = _upload(client, admin, model_bytes(), "first")
    assert _activate(client, admin, first).status_code == 200
    loaded = other_process.get(session, fast)
    assert loaded is not None and loaded.model_id == first

    second = _upload(client, admin, model_bytes("B-"), "second")
    assert _activate(client, admin, second).status_code == 200
    resp = client.post(PREDICT, json={"title": "公交车绕路"}, headers=admin)
    assert resp.json()["model_id"] == second and resp.json()["label"].startswith("B-")
    loaded = other_process.get(session, fast)
    assert loaded is not None and loaded.model_id == second

    assert client.post("/api/v1/classifier/models/deactivate", headers=admin).status_code == 204
    assert other_process.get(session, fast) is None
    assert client.post(PREDICT, json={"title": "公交"}, headers=admin).status_code == 409


def test_settings_file_is_the_fallback_model(
    session: Session, settings: Settings, tmp_path: object
) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "m.model"
    path.write_bytes(model_bytes())
    holder = service.ModelHolder()
    with_file = settings.model_copy(update={"classifier_model": str(path)})
    loaded = holder.get(session, with_file)
    assert loaded is not None and loaded.model_id is None
    # a broken file at the same path later: refused, the loaded model stays
    path.write_bytes(b"garbage")
    holder.invalidate()
    assert holder.get(session, with_file) is loaded
