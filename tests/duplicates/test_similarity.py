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
        # a text shorter than a 3-gram is one, padded: keys of its own
        short = [similarity.keys_for(t) for t in ("井", "井盖", "井盖缺", "盖井")]
        assert all(len(k) == similarity.BANDS for k in short)
        assert len({k[0] for k in short}) == len(short)

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

    def test_the_signature_is_the_minimum_of_each_hash_function(self) -> None:
        """numpy's wrapping arithmetic against the definition, in Python integers."""
        mask = 2**64 - 1

        def mixed(a: int, b: int, c: int) -> int:
            x = (a << 42) | (b << 21) | c
            x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & mask
            x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & mask
            return x ^ (x >> 31)

        points = [ord(ch) for ch in self.TEXT]
        values = {mixed(*points[i : i + 3]) for i in range(len(points) - 2)}
        expected = [
            min((int(a) * v + int(b)) & mask for v in values)
            for a, b in zip(similarity._A[:, 0], similarity._B[:, 0], strict=True)
        ]
        assert similarity.signature(self.TEXT).tolist() == expected

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


EXPECTED_KEYS = [1087440825833571031, -3611528724869020780]
