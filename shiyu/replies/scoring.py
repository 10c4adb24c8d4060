"""Scoring an official reply to a citizen's message (pure functions, no database).

Three parts, each in [0, 1], combined into a 0–100 score:

- **relevance** (weight 0.30): does the reply talk about what was asked? The message's key
  terms (jieba TF-IDF keywords of subject and detail, the subject's counted twice) and its
  named places and organisations (…区/县/镇/街道/村/社区/小区/路/学校/医院/局/公司 …);
  relevance is the weighted share of them that the reply mentions, divided by 0.5 (capped at 1).
- **completeness** (weight 0.50): pattern features found by reading replies in replies.csv:
  it acknowledges the message (收悉/您好), answers it (findings: 经调查/核实/现场…, or an
  explanation: 根据…规定/文件/政策), states an action or result (已责令/整改/纳入计划…),
  a next step or timeframe (将/预计/月底/下一步), a contact (电话/联系/地址), and has
  substance (length beyond the greeting). A reply that only says the message was passed on
  (已转交…) gets little: its substance is near zero and it answers nothing.
- **timeliness** (weight 0.20): elapsed time over the limit (the event's finish deadline, or
  working days for a CSV): 1 within the limit, falling linearly to 0 at three times it.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from shiyu.kit import text as kit_text

WEIGHTS = {"relevance": 0.30, "completeness": 0.50, "timeliness": 0.20}
COMPLETENESS_WEIGHTS = {
    "acknowledges": 0.10,
    "answers": 0.30,
    "action": 0.15,
    "next_step": 0.10,
    "contact": 0.05,
    "substance": 0.30,
}
#: characters of real content (beyond greeting and thanks) for full substance
SUBSTANCE_CHARS = 250
#: a reply mentioning this weighted share of the message's key terms is fully relevant: replies
#: summarise, and in replies.csv good ones mention a median 0.4 of them (reading showed that
#: 0.5 already means the reply is about the message)
RELEVANCE_FULL = 0.5
#: more than this many times the limit: timeliness 0
LATE_FACTOR = 3.0

_PATTERNS = {
    "acknowledges": re.compile(r"收悉|已阅|获悉|您好|你好|来信|留言|感谢"),
    "findings": re.compile(
        r"经(调查|核实|查|了解|现场|核查|实地)|调查|核实|核查|查实|现场|实地|据查|据了解|走访"
    ),
    "explanation": re.compile(
        r"根据|按照|依据|规定|政策|文件|第[一二三四五六七八九十百\d]+条|符合|属于|标准|办法"
    ),
    "action": re.compile(
        r"已(经)?(?!转)[^，。；]{0,10}?(责令|要求|安排|组织|督促|完成|解决|清理|整改|修复|拆除|纳入|"
        r"列入|开展|处理|办理|落实|启动|召开|协调|联系|下发|制定|设立|设置|安装|调整)|"
        r"责成|整改|处罚|查处|立案|约谈|纳入|列入"
    ),
    "next_step": re.compile(
        r"将|下一步|预计|计划|力争|年底|月底|(\d+|[一二三四五六七八九十]+)月(\d+日)?(前|底|份)|"
        r"近期|尽快|工作日内|争取"
    ),
    "contact": re.compile(r"电话|联系|咨询|热线|地址|窗口|\d{3,4}-\d{7,8}|\d{7,8}"),
}
_BOILERPLATE = re.compile(
    r"(网友|网民|朋友|同志|您好|你好|留言|来信|已收悉|收悉|感谢[^。！!]*[。！!]?|"
    r"“?UU\d+”?|\d{4}年\d{1,2}月\d{1,2}日|现(将|就)?[^：:]{0,20}(回复|答复)如下[：:]?)"
)
_ENTITY = re.compile(
    r"[\u4e00-\u9fffA-Za-z0-9]{1,8}?(?:区|县|市|镇|乡|街道|村|社区|小区|花园|路|大道|街|公园|"
    r"学校|小学|中学|幼儿园|医院|卫生院|公司|局|厅|委|办|站|所|厂|项目)"
)
_NOISE = re.compile(r"\s+")

_lock = threading.Lock()
_ready = False


def _keywords(text: str, top: int) -> list[tuple[str, float]]:
    # late: jieba.analyse loads its IDF table on import, which a server's job thread should
    # not pay for until there is a reply to score
    import jieba  # type: ignore[import-untyped]
    import jieba.analyse  # type: ignore[import-untyped]

    global _ready
    if not _ready:
        with _lock:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _ready = True
    return [(w, float(s)) for w, s in jieba.analyse.extract_tags(text, topK=top, withWeight=True)]


@dataclass(frozen=True)
class ReplyScore:
    score: float
    relevance: float
    completeness: float
    timeliness: float
    features: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _clean(value: str) -> str:
    return _NOISE.sub("", kit_text.normalise(value or ""))


def relevance(subject: str, detail: str, reply: str) -> tuple[float, dict[str, Any]]:
    subject, detail, reply = _clean(subject), _clean(detail), _clean(reply)
    if not reply:
        return 0.0, {"keywords": [], "entities": []}
    weights: dict[str, float] = {}
    for word, weight in _keywords(subject, 8):
        weights[word] = weights.get(word, 0.0) + 2 * weight
    for word, weight in _keywords(detail[:3000], 12):
        weights[word] = weights.get(word, 0.0) + weight
    total = sum(weights.values())
    covered = sum(w for word, w in weights.items() if word in reply)
    keyword_share = covered / total if total else 0.0
    entities = sorted({m for m in _ENTITY.findall(subject + detail[:1000]) if len(m) >= 3})
    entity_share = sum(1 for e in entities if e in reply) / len(entities) if entities else None
    value = keyword_share if entity_share is None else 0.7 * keyword_share + 0.3 * entity_share
    return min(1.0, value / RELEVANCE_FULL), {
        "keywords": [w for w in weights if w in reply][:10],
        "entities": [e for e in entities if e in reply][:10],
    }


def completeness(reply: str) -> tuple[float, dict[str, Any]]:
    body = _clean(reply)
    found = {name: bool(p.search(body)) for name, p in _PATTERNS.items()}
    content = _BOILERPLATE.sub("", body)
    substance = max(0.0, min(1.0, len(content) / SUBSTANCE_CHARS))
    parts = {
        "acknowledges": float(found["acknowledges"]),
        "answers": float(found["findings"] or found["explanation"]),
        "action": float(found["action"]),
        "next_step": float(found["next_step"]),
        "contact": float(found["contact"]),
        "substance": substance,
    }
    value = sum(COMPLETENESS_WEIGHTS[k] * v for k, v in parts.items())
    # a bare "passed on" has no answer to give credit for, whatever words it happens to use
    if len(content) < 40:
        value = min(value, 0.25)
    return value, {**parts, "content_chars": len(content)}


def timeliness(asked_at: datetime, replied_at: datetime, deadline: datetime | None) -> float:
    if deadline is None or deadline <= asked_at:
        return 1.0
    ratio = (replied_at - asked_at) / (deadline - asked_at)
    if ratio <= 1:
        return 1.0
    return max(0.0, 1.0 - (ratio - 1) / (LATE_FACTOR - 1))


def score_reply(
    *,
    subject: str,
    detail: str,
    reply: str,
    asked_at: datetime | None,
    replied_at: datetime | None,
    deadline: datetime | None,
) -> ReplyScore:
    rel, rel_facts = relevance(subject, detail, reply)
    comp, comp_facts = completeness(reply)
    timely = timeliness(asked_at, replied_at, deadline) if asked_at and replied_at else 1.0
    total = 100 * (
        WEIGHTS["relevance"] * rel + WEIGHTS["completeness"] * comp + WEIGHTS["timeliness"] * timely
    )
    return ReplyScore(
        score=round(total, 1),
        relevance=round(rel, 3),
        completeness=round(comp, 3),
        timeliness=round(timely, 3),
        features={**rel_facts, **comp_facts},
    )
