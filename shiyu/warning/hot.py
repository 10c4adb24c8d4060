"""Hot issues (热点问题): similar messages of a period grouped into clusters and ranked.

Pure computation on `Message`s, shared by the database path (events) and the CSV path
(`shiyu warnings hot --csv`). docs/intelligence.md, "Early warning and hot issues", gives the
method and the score; the parameters are `HotParams` (settings `hot_*`)."""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from shiyu.warning import textsim

#: detail text beyond this many characters is not tokenised: the problem is stated at the
#: start of a message, and jieba costs about 8 µs per character here
DETAIL_CHARS = 300
#: place words: masked areas of the data set (A3区, K9县) and named places in real text
_AREA = re.compile(r"[A-Z]\d+[区县市]")
_NAMED_PLACE = re.compile(
    r"[^\W\d_A-Za-z的在了和与及对是将把从向到给市省区县买卖有]{2,10}"
    r"(?:小区|社区|花园|家园|公寓|大厦|广场|学校|小学|中学|大学|学院|医院|公园|市场|街道|镇|村|路|街|苑)"
)
#: a person's messages count at most this many times toward a cluster's volume: one resident
#: re-posting fifty times is a repeated appeal (重复投诉), not fifty residents
PER_PERSON_CAP = 2
_LEADING_NOISE = re.compile(r"^(?:关于|反映|投诉|举报|咨询|建议|请问|请求|恳请|希望|要求)+")


@dataclass(frozen=True)
class Message:
    key: str
    subject: str
    detail: str
    at: datetime | None
    #: who posted it (a user id or a phone hash); None counts as a distinct unknown person
    person: str | None
    #: where: a grid name or code; None → place words found in the text
    place: str | None = None
    likes: int = 0
    dislikes: int = 0
    #: the unit counted for the spread over places (a grid code); None → `place` or the text
    area: str | None = None


@dataclass(frozen=True)
class HotParams:
    #: cosine similarity for two messages to be neighbours (a cluster centre claims them)
    link: float = 0.4
    #: a left-over message joins the cluster whose centroid is at least this similar
    attach: float = 0.3
    #: two clusters whose centroids are at least this similar are merged
    merge: float = 0.4
    #: a cluster is a hot issue if it has messages from at least this many people ...
    min_people: int = 2
    #: ... or this much net public support (likes − dislikes)
    min_support: int = 50
    max_df: float = 0.05


@dataclass
class HotIssue:
    rank: int
    score: float
    title: str
    representative_key: str
    place: str | None
    first_at: datetime | None
    last_at: datetime | None
    messages: int
    people: int
    places: int
    likes: int
    dislikes: int
    keywords: list[str]
    keys: list[str] = field(default_factory=list)
    #: positions of the members in the input (internal)
    rows: list[int] = field(default_factory=list, repr=False)


def score(*, messages: int, people: int, places: int, likes: int, dislikes: int) -> float:
    """H = ln(1+n) + ½·ln(1+p) + ½·ln(max(s,1)) + ½·ln(1+max(0, likes−dislikes)).

    Volume counts most; distinct people and places add breadth (a problem raised by many people
    in many places is bigger than one person's ten posts); public support counts on a log scale
    so a single post with thousands of likes ranks with a cluster of a few dozen posts."""
    support = max(0, likes - dislikes)
    return (
        math.log1p(messages)
        + 0.5 * math.log1p(people)
        + 0.5 * math.log(max(places, 1))
        + 0.5 * math.log1p(support)
    )


def tokens(message: Message) -> list[str]:
    """The subject counts twice: it is the writer's own summary of the problem."""
    return textsim.words(message.subject) * 2 + textsim.words(message.detail[:DETAIL_CHARS])


def places_of(message: Message) -> list[str]:
    """Place names for display: the message's own place, else named places in its text."""
    if message.place:
        return [message.place]
    text = message.subject + " " + message.detail[:DETAIL_CHARS]
    named = [_LEADING_NOISE.sub("", p) for p in _NAMED_PLACE.findall(text)]
    return list(dict.fromkeys(named or _AREA.findall(text)))


def area_of(message: Message) -> str | None:
    """The area a message counts in for the spread over places: its own place (a grid), else
    the first district code in its text (A3区), else none."""
    if message.area or message.place:
        return message.area or message.place
    found = _AREA.search(message.subject) or _AREA.search(message.detail[:DETAIL_CHARS])
    return found.group(0) if found else None


def find(
    messages: Sequence[Message],
    *,
    params: HotParams | None = None,
    top: int = 20,
    words: Sequence[list[str]] | None = None,
) -> list[HotIssue]:
    """The `top` hot issues among `messages`, best first. `words` may hold each message's
    tokens when the caller has them already."""
    p = params or HotParams()
    if not messages:
        return []
    docs = list(words) if words is not None else [tokens(m) for m in messages]
    matrix = textsim.tfidf(docs, max_df=p.max_df)
    groups = _cluster(matrix, p)
    issues = [_summarise(messages, g) for g in groups]
    issues = [
        i for i in issues if i.people >= p.min_people or i.likes - i.dislikes >= p.min_support
    ]
    issues.sort(key=lambda i: (-i.score, -i.messages, i.keys[0]))
    issues = issues[:top]
    vocabulary = {k: w for w, k in matrix.vocabulary.items()}
    for rank, issue in enumerate(issues, start=1):
        issue.rank = rank
        _name(issue, matrix, messages, vocabulary)
    return issues


# ---------------------------------------------------------------- clustering


def _cluster(matrix: textsim.Tfidf, p: HotParams) -> list[list[int]]:
    """Leader clustering on the similarity graph, then left-overs attached and close clusters
    merged by centroid similarity. A leader (the message with most neighbours left) claims its
    unclaimed neighbours, so every member is similar to the leader: no chains of messages that
    drift from one topic to another, as connected components would give."""
    n = matrix.n_rows
    i, j, _ = textsim.similar_pairs(matrix, threshold=p.link)
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        neighbours[a].append(b)
    label = np.full(n, -1, dtype=np.int64)
    groups: list[list[int]] = []
    for leader in sorted(range(n), key=lambda k: (-len(neighbours[k]), k)):
        if label[leader] != -1:
            continue
        members = [leader] + [k for k in neighbours[leader] if label[k] == -1]
        label[members] = len(groups)
        groups.append(members)
    groups = _attach_singletons(matrix, groups, p.attach)
    return _merge(matrix, groups, p.merge)


def _centroids(matrix: textsim.Tfidf, groups: Sequence[Sequence[int]]) -> textsim.Tfidf:
    """Sums of the members' rows. The words not stored (unique to one message, or too common)
    are taken as orthogonal between members, so their squared weights add up."""
    rows: list[dict[int, float]] = []
    hidden: list[float] = []
    for members in groups:
        acc: dict[int, float] = {}
        for m in members:
            cols, vals = matrix.row(m)
            for c, v in zip(cols.tolist(), vals.tolist(), strict=True):
                acc[c] = acc.get(c, 0.0) + v
        rows.append(acc)
        hidden.append(float(matrix.residual[list(members)].sum()))
    return textsim.from_rows(rows, hidden, len(matrix.vocabulary))


def _attach_singletons(
    matrix: textsim.Tfidf, groups: list[list[int]], threshold: float
) -> list[list[int]]:
    """A message alone in its group joins the most similar larger cluster (by centroid) when
    that similarity reaches `threshold`: posts about one issue worded in different ways."""
    big = [g for g in groups if len(g) > 1]
    single = [g[0] for g in groups if len(g) == 1]
    if not big or not single:
        return groups
    both = _centroids(matrix, [*big, *([s] for s in single)])
    i, j, s = textsim.similar_pairs(both, threshold=threshold)
    best: dict[int, tuple[float, int]] = {}
    nb = len(big)
    for a, b, sim in zip(i.tolist(), j.tolist(), s.tolist(), strict=True):
        if a >= nb and b < nb and sim > best.get(a, (-1.0, -1))[0]:
            best[a] = (sim, b)
    out = [list(g) for g in big]
    for k, msg in enumerate(single):
        target = best.get(nb + k)
        if target is None:
            out.append([msg])
        else:
            out[target[1]].append(msg)
    return out


def _merge(matrix: textsim.Tfidf, groups: list[list[int]], threshold: float) -> list[list[int]]:
    """Clusters whose centroids reach `threshold` are merged (union-find over those pairs)."""
    cents = _centroids(matrix, groups)
    i, j, _ = textsim.similar_pairs(cents, threshold=threshold)
    parent = list(range(len(groups)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    merged: dict[int, list[int]] = {}
    for k, g in enumerate(groups):
        merged.setdefault(root(k), []).extend(g)
    return list(merged.values())


# ---------------------------------------------------------------- description


def _summarise(messages: Sequence[Message], members: list[int]) -> HotIssue:
    """Counts and score of a cluster (cheap: done for every cluster before ranking)."""
    members = sorted(members)
    group = [messages[k] for k in members]
    per_person = Counter(m.person or f"?{m.key}" for m in group)
    place_counts: Counter[str] = Counter(p for m in group for p in places_of(m))
    areas = {a for m in group if (a := area_of(m)) is not None}
    times = [m.at for m in group if m.at is not None]
    likes = sum(m.likes for m in group)
    dislikes = sum(m.dislikes for m in group)
    return HotIssue(
        rank=0,
        score=round(
            score(
                messages=sum(min(c, PER_PERSON_CAP) for c in per_person.values()),
                people=len(per_person),
                places=len(areas),
                likes=likes,
                dislikes=dislikes,
            ),
            4,
        ),
        title="",
        representative_key="",
        place=place_counts.most_common(1)[0][0] if place_counts else None,
        first_at=min(times) if times else None,
        last_at=max(times) if times else None,
        messages=len(group),
        people=len(per_person),
        places=len(areas),
        likes=likes,
        dislikes=dislikes,
        keywords=[],
        keys=[m.key for m in group],
        rows=members,
    )


def _name(
    issue: HotIssue,
    matrix: textsim.Tfidf,
    messages: Sequence[Message],
    vocabulary: dict[int, str],
) -> None:
    """Title (the subject of the most central message) and keywords of a ranked issue."""
    central = _most_central(matrix, issue.rows)
    issue.title = messages[central].subject or messages[central].detail[:60]
    issue.representative_key = messages[central].key
    issue.keywords = _keywords(matrix, issue.rows, vocabulary)


def _most_central(matrix: textsim.Tfidf, members: list[int]) -> int:
    """The member most similar to the cluster's centroid (ties: the earliest row)."""
    if len(members) == 1:
        return members[0]
    dense = matrix.dense_rows(members)
    centroid = dense.sum(axis=0)
    sims = dense @ centroid
    return members[int(np.argmax(sims))]


def _keywords(
    matrix: textsim.Tfidf, members: list[int], vocabulary: dict[int, str], k: int = 5
) -> list[str]:
    weights: dict[int, float] = {}
    for m in members:
        cols, vals = matrix.row(m)
        for c, v in zip(cols.tolist(), vals.tolist(), strict=True):
            weights[c] = weights.get(c, 0.0) + v
    best = sorted(weights.items(), key=lambda cv: (-cv[1], cv[0]))[:k]
    return [vocabulary[c] for c, _ in best]


# ---------------------------------------------------------------- CSV (evaluation)


class CsvError(ValueError):
    pass


REQUIRED_COLUMNS = ("subject", "detail")


def read_csv(path: Path) -> list[Message]:
    """Messages of a CSV with at least `subject` and `detail`; `message_id`, `user`, `time`
    (YYYY-MM-DD HH:MM:SS), `likes` and `dislikes` are used when present (hot.csv has them)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise CsvError(f"CSV 缺少列：{', '.join(missing)}")
        return [_csv_message(n, row) for n, row in enumerate(reader, start=1)]


def _csv_message(n: int, row: dict[str, str]) -> Message:
    return Message(
        key=(row.get("message_id") or "").strip() or str(n),
        subject=(row.get("subject") or "").strip(),
        detail=(row.get("detail") or "").strip(),
        at=_parse_time(row.get("time")),
        person=(row.get("user") or "").strip() or None,
        likes=_int(row.get("likes")),
        dislikes=_int(row.get("dislikes")),
    )


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def _int(value: str | None) -> int:
    try:
        return max(0, int((value or "0").strip() or 0))
    except ValueError:
        return 0


def within(
    messages: Iterable[Message], start: datetime | None, end: datetime | None
) -> list[Message]:
    """Messages with a time in [start, end) (all of them when neither bound is given)."""
    if start is None and end is None:
        return list(messages)
    return [
        m
        for m in messages
        if m.at is not None and (start is None or m.at >= start) and (end is None or m.at < end)
    ]
