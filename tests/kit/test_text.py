from __future__ import annotations

import pytest

from shiyu.kit.text import normalise, to_half_width


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("開封市路燈不亮", "开封市路灯不亮"),
        ("ＡＢＣ１２３號樓", "ABC123号楼"),
        ("  垃圾\u3000堆积 \t 三天  ", "垃圾 堆积 三天"),
        ("第一行\n\n  第二行 ", "第一行\n第二行"),
        ("控制\x00字符\x07", "控制字符"),
        ("你好，世界。", "你好，世界。"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_half_width_keeps_chinese_punctuation() -> None:
    assert to_half_width("Ｗｉ－Ｆｉ，好") == "Wi－Fi，好"
