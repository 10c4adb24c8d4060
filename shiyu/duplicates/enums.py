from __future__ import annotations

from enum import StrEnum


class CandidateStatus(StrEnum):
    suggested = "suggested"
    rejected = "rejected"  # 非重复: never suggested again for this pair
    merged = "merged"
