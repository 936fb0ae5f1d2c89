"""Dates the Chinese way, and quarter arithmetic."""

from __future__ import annotations

import datetime as dt

QUARTER_NAMES = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}


def quarter_of(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, 3 * (quarter - 1) + 1, 1)
    if quarter == 4:
        end = dt.date(year, 12, 31)
    else:
        end = dt.date(year, 3 * quarter + 1, 1) - dt.timedelta(days=1)
    return start, end


def cn_date(value: dt.date | dt.datetime | None) -> str:
    """2024年3月5日"""
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


def cn_month(value: dt.date | None) -> str:
    if value is None:
        return ""
    return f"{value.year}年{value.month}月"
