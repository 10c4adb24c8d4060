from __future__ import annotations

import pytest

from shiyu.duplicates import similarity


class TestClean:
    def test_punctuation_space_width_and_traditional_do_not_matter(self) -> None:
        assert similarity.clean("解放路 井蓋缺失！", "ＡＢ１２") == similarity.clean(
            "解放路井盖缺失", "ab12"
        )

    def test_long_text_is_cut(self) -> None:
        assert len(similarity.clean("路" * 30_000)) == similarity.MAX_CHARS


class TestShingles:
    def test_three_character_grams(self) -> None:
        assert similarity.shingles("井盖缺失") == {"井盖缺", "盖缺失"}

    def test_short_and_empty_texts(self) -> None:
        assert similarity.shingles("井盖") == {"井盖"}
        assert similarity.shingles("") == frozenset()
        assert similarity.keys_for("") == []

    def test_jaccard(self) -> None:
        a = similarity.shingles("解放路井盖缺失")
        assert similarity.jaccard(a, a) == 1.0
        assert similarity.jaccard(a, similarity.shingles("和平路路灯不亮")) == 0.0
        assert similarity.jaccard(a, frozenset()) == 0.0


class TestBandKeys:
    TEXT = similarity.clean("解放路与和平路交叉口东侧人行道井盖缺失，行人易跌落")

    def test_one_key_per_band_and_stable_across_processes(self) -> None:
        keys = similarity.keys_for(self.TEXT)
        assert len(keys) == similarity.BANDS
        # fixed values: keys written by one server must be found by another (no salted hash)
        assert keys[:2] == EXPECTED_KEYS

    def test_identical_texts_share_every_key_and_unrelated_share_none(self) -> None:
        same = similarity.keys_for(self.TEXT)
        other = similarity.keys_for(similarity.clean("某小区夜间施工噪音扰民，请求相关部门查处"))
        assert similarity.keys_for(self.TEXT) == same
        assert not set(same) & set(other)

    def test_near_duplicates_usually_share_a_band(self) -> None:
        base = "A3区大道西行便道，未管所路口至加油站路段，人行道包括路灯杆被圈入施工围墙内"
        edited = base + "，请尽快整改"
        shared = set(similarity.keys_for(similarity.clean(base))) & set(
            similarity.keys_for(similarity.clean(edited))
        )
        assert shared

    @pytest.mark.parametrize(("s", "low", "high"), [(0.3, 0.1, 0.15), (0.6, 0.85, 0.95)])
    def test_candidate_probability(self, s: float, low: float, high: float) -> None:
        assert low < similarity.candidate_probability(s) < high


def test_distance() -> None:
    # 0.01° of latitude is about 1.11 km
    assert similarity.distance_m((114.0, 30.0), (114.0, 30.01)) == pytest.approx(1112, rel=0.01)


EXPECTED_KEYS = [6327734518791423044, -8153957108697775705]
