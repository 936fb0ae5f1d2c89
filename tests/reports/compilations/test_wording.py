"""The one definition of how official documents write numbers and nested quotes."""

from decimal import Decimal

import pytest

from reports.compilations.render.wording import nest_quotes, official_number


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (777631, "份", "77万余份"),
        (3215, "场次", "3200余场次"),
        (86, "场", "86场"),
        (0, "个", "0个"),
        (150, "场", "150场"),
        (283, "块", "280余块"),
        (912, "人", "910余人"),
        (9999, "个", "9900余个"),
        (10000, "人次", "1万人次"),
        (15320, "人", "1.5万余人"),
        (20000, "人", "2万人"),
        (99999, "人", "9.9万余人"),
        (120500, "人次", "12万余人次"),
        (1234567, "份", "123万余份"),
        (123456789, "元", "1.2亿余元"),
        (Decimal("3.50"), "万元", "3.5万元"),
        (Decimal("356.8"), "万元", "350余万元"),
        (12500, "万元", "1.2亿余元"),
        (2.333, "万元", "2.33万元"),
        (None, "个", "—"),
        (-3215, "场次", "-3200余场次"),
    ],
)
def test_official_number(value, unit, expected):
    assert official_number(value, unit) == expected


def test_no_integer_of_ten_thousand_or_more_is_ever_printed():
    import re

    for value in [10_000, 10_001, 54_321, 100_000, 999_999, 10**7, 10**9, 12_345_678_901]:
        text = official_number(value, "份")
        assert not any(int(n) >= 10_000 for n in re.findall(r"\d+", text)), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("“推动“双创””", "“推动‘双创’”"),
        ("开展“民族团结进步“进机关””活动", "开展“民族团结进步‘进机关’”活动"),
        ("“一“二“三”二”一”", "“一‘二“三”二’一”"),
        ('"石榴籽"工程', "“石榴籽”工程"),
        ("“已经‘正确’”", "“已经‘正确’”"),
        ("没有引号", "没有引号"),
        ("多余的”右引号", "多余的”右引号"),
        ("", ""),
    ],
)
def test_nest_quotes(text, expected):
    assert nest_quotes(text) == expected
