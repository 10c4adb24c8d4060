"""Chinese full-text search: bigram tokens, the FTS5 / GIN index, AND semantics and scoping."""

from __future__ import annotations

import unicodedata
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import create_engine, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from shiyu.config import Settings
from shiyu.db import Database
from shiyu.events import search
from shiyu.events.models import Event, EventSearch
from shiyu.events.repository import search_condition
from shiyu.kit import text as kit_text
from tests.conftest import make_settings
from tests.factories.events import create_event
from tests.factories.world import World, create_world
from tests.helpers import revision_module, run_cli

#: characters NFKC changes, composes or splits around: Chinese with full-width punctuation,
#: full-width letters, combining marks and the kana they join, half-width katakana, Hangul
#: jamo, circled digits, ligatures, units, Roman numerals, letters that lower-case oddly
_AWKWARD = list(
    "井盖缺失人行道路燈，。、：；！？（）【】《》“”‘’…—～　"
    "ＡＢｃ１２＿＄．／ａ abcXYZ09_-.,;:!?()'\"*"
    "\u0301\u0308\u3099\u309a\u309b\u309cかはカﾊｶﾞﾟ"
    "\u1100\u1161\u11a8가①⑴㎡ﬁⅫ²ΣİßẞŉǅK\u2024\u2025\u2026\u203c\u2047\ufe50\ufe5f"
)


def _pieces(text: str) -> list[str]:
    return search._PIECE.findall(text)


class TestTokens:
    def test_document_holds_bigrams_and_the_last_character_of_a_run(self) -> None:
        tokens = search.document_text("人行道井盖缺失", "5号楼").split()
        assert {"人行", "行道", "道井", "井盖", "盖缺", "缺失"} <= set(tokens)
        assert {"失", "5", "号楼", "楼"} <= set(tokens)
        # a character inside a run is found through the bigram it begins
        assert not {"人", "井", "盖", "号", "人行道"} & set(tokens)
        assert len(tokens) == len(set(tokens))
        assert search.document_text("路") == "路"

    def test_query_asks_for_every_bigram_of_a_phrase(self) -> None:
        assert search.query_terms("人行道") == ["人行", "行道"]
        assert search.query_terms("路") == ["路"]
        assert search.query_terms("ktv噪音") == ["ktv", "噪音"]

    def test_one_chinese_character_is_a_prefix_term(self) -> None:
        assert [search.is_prefix(t) for t in ["路", "井盖", "5", "k"]] == [
            True,
            False,
            False,
            False,
        ]
        assert search.fts5_match(["路", "井盖", "5"]) == '"路"* "井盖" "5"'
        assert search.tsquery(["路", "井盖", "a'b", "c\\"]) == "'路':* & '井盖' & 'a''b' & 'c\\\\'"

    def test_traditional_characters_are_simplified(self) -> None:
        assert search.document_text("路燈壞了") == search.document_text("路灯坏了")
        assert search.query_terms("路燈") == ["路灯"]

    def test_full_width_and_case_are_normalised(self) -> None:
        assert "abc" in search.document_text("ＡＢＣ小区").split()
        assert search.query_terms("ＡＢＣ") == ["abc"]
        assert search.query_terms("ABC") == ["abc"]

    @examples(max_examples=1000, deadline=None)
    @given(st.text(alphabet=st.sampled_from(_AWKWARD), max_size=40))
    def test_tokens_are_those_of_nfkc_text(self, text: str) -> None:
        """`search.normalise` runs NFKC only when the text needs more than its punctuation
        turned into separators: the tokens are the same as with NFKC on every text."""
        for normalised in (False, True):
            assert _pieces(search.normalise(text, normalised=normalised)) == _pieces(
                unicodedata.normalize(
                    "NFKC", text if normalised else kit_text.normalise(text)
                ).lower()
            )

    def test_punctuation_and_operators_drop_out(self) -> None:
        assert search.query_terms("井盖，缺失！") == ["井盖", "缺失"]
        assert search.query_terms('"*() -') == []
        assert search.query_terms("5号楼") == ["5", "号楼"]

    def test_query_terms_are_capped(self) -> None:
        many = " ".join(f"词{i}" for i in range(40))
        assert len(search.query_terms(many)) == search.MAX_QUERY_TERMS

    def test_fts5_expression_quotes_every_term(self) -> None:
        assert search.fts5_match(["井盖", 'a"b']) == '"井盖" "a""b"'


@pytest.fixture
def texts(session: Session, settings: Settings, world: World) -> dict[str, Event]:
    lng_b, lat_b = world.city.centres[world.grid_b]
    rows: list[tuple[str, dict[str, Any]]] = [
        ("人行道井盖缺失", {"description": "解放路与和平路交叉口东侧人行道井盖缺失"}),
        ("路灯不亮", {"description": "和平路一段路燈夜間不亮", "address": "和平路12号"}),
        ("噪音扰民", {"description": "ＫＴＶ深夜噪音", "address": "幸福小区5号楼"}),
        ("井盖破损", {"description": "乙街道井盖破损", "lng": lng_b, "lat": lat_b}),
    ]
    events = {}
    for title, kw in rows:
        kw.setdefault("address", "")
        events[title] = create_event(session, settings, world, title=title, **kw)
    session.flush()
    return events


def _document(session: Session, event: Event) -> EventSearch:
    stored = session.get(EventSearch, event.id)
    assert stored is not None
    return stored


def _search(client: httpx.Client, headers: dict[str, str], q: str, **params: Any) -> list[str]:
    resp = client.get("/api/v1/events", params={"q": q, "size": 200, **params}, headers=headers)
    assert resp.status_code == 200, resp.text
    return sorted(item["title"] for item in resp.json()["items"])


class TestSearchApi:
    @pytest.mark.parametrize(
        ("q", "expected"),
        [
            ("井盖", ["人行道井盖缺失"]),
            ("井盖缺失", ["人行道井盖缺失"]),
            ("人行道 井盖", ["人行道井盖缺失"]),
            ("和平路", ["人行道井盖缺失", "路灯不亮"]),  # description and address
            ("和平路 路灯", ["路灯不亮"]),  # every term must match
            ("井盖 路灯", []),
            ("路", ["人行道井盖缺失", "路灯不亮"]),  # one character
            ("井", ["人行道井盖缺失"]),  # inside a run: the bigram it begins
            ("民", ["噪音扰民"]),  # the end of a run
            ("楼 噪", ["噪音扰民"]),
            ("灯", ["路灯不亮"]),
            ("亮 井", []),
            ("ktv", ["噪音扰民"]),  # full-width, upper case in the text
            ("ＫＴＶ 5号楼", ["噪音扰民"]),
            ("停车", []),
            ("噪音擾民", ["噪音扰民"]),  # a query in Traditional characters
            ("路燈", ["路灯不亮"]),
            ("夜间", ["路灯不亮"]),  # a report typed in Traditional characters
            ("夜間", ["路灯不亮"]),
        ],
    )
    def test_chinese_queries(
        self,
        client: httpx.Client,
        world: World,
        texts: dict[str, Event],
        q: str,
        expected: list[str],
    ) -> None:
        assert _search(client, world.headers(client, "dispatcher"), q) == expected

    def test_scoping_hides_matches_elsewhere(
        self, client: httpx.Client, world: World, texts: dict[str, Event]
    ) -> None:
        assert _search(client, world.headers(client, "dispatcher"), "破损") == []
        from tests.factories.auth import login

        assert world.user_b is not None
        assert _search(client, login(client, world.user_b.username), "井盖") == ["井盖破损"]

    def test_search_with_other_filters(
        self, client: httpx.Client, world: World, texts: dict[str, Event]
    ) -> None:
        headers = world.headers(client, "dispatcher")
        assert _search(client, headers, "和平路", category_code="BJ01") == [
            "人行道井盖缺失",
            "路灯不亮",
        ]
        assert _search(client, headers, "和平路", status="dispatched") == []

    @pytest.mark.parametrize(
        "q",
        [
            *['井盖"', "井盖 OR 路灯", "NEAR(井盖 路灯)", "title:井盖", "井盖*", "-井盖", "，"],
            # letters and numbers outside Chinese and ASCII: each term must stay one token
            # (SQLite's index holds no positions, so a phrase query would be refused)
            *["x²", "ǅ", "Ⅻ号", "àb", "ﾊﾟ"],
        ],
    )
    def test_operator_characters_are_plain_text(
        self, client: httpx.Client, world: World, texts: dict[str, Event], q: str
    ) -> None:
        resp = client.get(
            "/api/v1/events", params={"q": q}, headers=world.headers(client, "dispatcher")
        )
        assert resp.status_code == 200, resp.text

    def test_changed_text_is_found_again(
        self, client: httpx.Client, world: World, session: Session, texts: dict[str, Event]
    ) -> None:
        """The index follows updates of the documents (SQLite: the FTS5 triggers)."""
        event = texts["噪音扰民"]
        _document(session, event).document = search.document_text("广场舞音响扰民")
        session.commit()
        headers = world.headers(client, "dispatcher")
        assert _search(client, headers, "广场舞") == ["噪音扰民"]
        assert _search(client, headers, "ktv") == []

    def test_retokenising_stores_todays_tokens(
        self, client: httpx.Client, world: World, session: Session, texts: dict[str, Event]
    ) -> None:
        """What a migration that changes the tokens runs; the index follows on both
        databases."""
        event = texts["路灯不亮"]
        _document(session, event).document = "stale"
        session.flush()
        search.retokenise(session.connection())
        session.commit()
        stored = _document(session, event)
        session.refresh(stored)
        assert stored.document == search.document_text(
            event.title, event.description, event.address
        )
        assert _search(client, world.headers(client, "dispatcher"), "夜间") == ["路灯不亮"]

    def test_pages_of_a_search(
        self, client: httpx.Client, session: Session, settings: Settings, world: World
    ) -> None:
        for i in range(5):
            create_event(session, settings, world, title=f"井盖问题{i}", description="")
        session.commit()
        headers = world.headers(client, "dispatcher")
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"q": "井盖", "size": 2, "sort": "reported_at"}
            if cursor:
                params["cursor"] = cursor
            body = client.get("/api/v1/events", params=params, headers=headers).json()
            seen += [item["title"] for item in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == [f"井盖问题{i}" for i in range(5)]


def test_downgrading_0016_restores_every_character() -> None:
    """Revision 0015's queries ask for one character as a whole token."""
    revision = revision_module("0016searchtokens")
    tokens = revision._with_characters("人行道", "5号楼").split()
    assert set(tokens) == {"人行", "行道", "道", "人", "行", "5", "号楼", "号", "楼"}
    assert len(tokens) == len(set(tokens))


def test_revision_0018_moves_the_documents_and_back(fresh_database: str) -> None:
    """Upgrading to 0018eventsearch copies each event's tokens into `event_search`, where
    the search finds them; downgrading puts them back into `events.search_text`."""
    settings = make_settings(fresh_database)
    db = Database(settings)
    try:
        with db.session() as session:
            world = create_world(session, settings)
            event = create_event(session, settings, world, title="井盖缺失", description="夜间")
            session.commit()
            event_id, expected = event.id, _document(session, event).document
        engine = create_engine(fresh_database)
        try:
            assert run_cli(fresh_database, "db", "downgrade", "0017statusindex").returncode == 0
            with engine.connect() as conn:
                assert (
                    conn.execute(
                        text("SELECT search_text FROM events WHERE id = :id"), {"id": event_id}
                    ).scalar_one()
                    == expected
                )
            assert run_cli(fresh_database, "db", "upgrade").returncode == 0
            with engine.connect() as conn:
                assert "search_text" not in {
                    c["name"] for c in sa_inspect(conn).get_columns("events")
                }
        finally:
            engine.dispose()
        with db.session() as session:
            stored = session.get(EventSearch, event_id)
            assert stored is not None and stored.document == expected
            found = session.scalars(
                select(Event.id).where(
                    search_condition(search.query_terms("井盖"), session.get_bind().dialect.name)
                )
            ).all()
            assert found == [event_id]
    finally:
        db.dispose()


def test_revision_0019_keeps_ids_only_and_back(fresh_database: str) -> None:
    """On SQLite, 0019searchrowids builds the FTS5 index without positions (`detail=none`)
    and its downgrade with them; the search finds the same event either way."""
    settings = make_settings(fresh_database)
    db = Database(settings)
    sqlite = fresh_database.startswith("sqlite")

    def fts_sql() -> str:
        with engine.connect() as conn:
            return str(
                conn.execute(
                    text("SELECT sql FROM sqlite_master WHERE name = 'event_search_fts'")
                ).scalar_one()
            )

    def found() -> list[int]:
        with db.session() as session:
            dialect = session.get_bind().dialect.name
            return list(
                session.scalars(
                    select(Event.id).where(search_condition(search.query_terms("井盖 夜"), dialect))
                )
            )

    engine = create_engine(fresh_database)
    try:
        with db.session() as session:
            world = create_world(session, settings)
            event = create_event(session, settings, world, title="井盖缺失", description="夜间")
            session.commit()
            event_id = event.id
        if sqlite:
            assert "detail=none" in fts_sql()
        assert run_cli(fresh_database, "db", "downgrade", "0018eventsearch").returncode == 0
        if sqlite:
            assert "detail" not in fts_sql()
        assert found() == [event_id]
        assert run_cli(fresh_database, "db", "upgrade").returncode == 0
        if sqlite:
            assert "detail=none" in fts_sql()
        assert found() == [event_id]
    finally:
        engine.dispose()
        db.dispose()


def test_revision_0024_ascii_tokens_and_merges_and_back(fresh_database: str) -> None:
    """On SQLite, 0024searchmerge builds the FTS5 index with the `ascii` tokenizer and merges
    16 segments at a time; its downgrade goes back to `unicode61` and FTS5's default. The same
    events are found either way: Chinese bigrams, a one-character prefix, and a Latin word
    with an accent typed in capitals (normalised before either tokenizer sees it)."""
    settings = make_settings(fresh_database)
    db = Database(settings)
    sqlite = fresh_database.startswith("sqlite")
    engine = create_engine(fresh_database)

    def fts() -> tuple[str, str | None]:
        with engine.connect() as conn:
            ddl = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'event_search_fts'")
            ).scalar_one()
            merge = conn.execute(
                text("SELECT v FROM event_search_fts_config WHERE k = 'automerge'")
            ).scalar()
        return str(ddl), None if merge is None else str(merge)

    def found(query: str) -> list[int]:
        with db.session() as session:
            dialect = session.get_bind().dialect.name
            condition = search_condition(search.query_terms(query), dialect)
            return list(session.scalars(select(Event.id).where(condition).order_by(Event.id)))

    try:
        with db.session() as session:
            world = create_world(session, settings)
            first = create_event(
                session, settings, world, title="井盖缺失", description="Café 门口"
            )
            second = create_event(session, settings, world, title="路灯不亮", description="夜间")
            session.commit()
            ids = first.id, second.id
        expected = {"井盖": [ids[0]], "灯": [ids[1]], "CAFÉ": [ids[0]], "夜间 路灯": [ids[1]]}
        if sqlite:
            assert fts() == (revision_module("0024searchmerge").SQLITE_TABLE, "16")
        assert {q: found(q) for q in expected} == expected
        assert run_cli(fresh_database, "db", "downgrade", "0023searchpending").returncode == 0
        if sqlite:
            assert fts() == (revision_module("0019searchrowids").SQLITE_TABLE, None)
        assert {q: found(q) for q in expected} == expected
        assert run_cli(fresh_database, "db", "upgrade").returncode == 0
        if sqlite:
            assert fts() == (revision_module("0024searchmerge").SQLITE_TABLE, "16")
        assert {q: found(q) for q in expected} == expected
    finally:
        engine.dispose()
        db.dispose()
