"""How official documents write numbers and quotes — the one definition every output calls.

Numbers (``official_number``), after the city's own summaries ("印发宣传资料77万余份", "开展宣讲3200余场次",
"覆盖12万余人次", "召开会议86场"):

* below 100: the exact figure ("86场"; a fraction keeps at most two decimals: "3.5万元");
* 100 – 9,999: cut down (never rounded up) to two significant digits, "余" if anything was cut
  ("3215" → "3200余", "283" → "280余", "150" → "150");
* 10,000 – 99,999: in 万 with one decimal, cut down ("15,320" → "1.5万余", "20,000" → "2万");
* 100,000 – 99,999,999: in whole 万, cut down ("777,631" → "77万余", "1,234,567" → "123万余");
* from 100,000,000: in 亿 with one decimal, cut down ("123,456,789" → "1.2亿余").

A unit that already starts with 万 ("万元") is moved to 亿 when the figure reaches 10,000 of it
("12,500万元" → "1.2亿余元"). So no integer of 10,000 or more is ever printed before a unit.

Quotes (``nest_quotes``): Chinese documents put single quotes inside double ones, alternating with depth:
“推动“双创”” → “推动‘双创’”.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

WAN = Decimal(10_000)
YI = Decimal(100_000_000)


def _plain(value: Decimal) -> str:
    """Decimal without exponent or trailing zeros: 12.50 → 12.5, 3.0 → 3."""
    text = f"{value.normalize():f}"
    return text


def _cut(value: Decimal, step: Decimal) -> Decimal:
    """``value`` cut down to a multiple of ``step`` (never rounded up)."""
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def official_number(value, unit: str = "") -> str:
    """A figure as an official document writes it, with its unit: (777631, "份") → "77万余份".

    ``None`` gives "—". See the module docstring for the thresholds.
    """
    if value is None:
        return "—"
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    sign = "-" if number < 0 else ""
    number = abs(number)
    if unit.startswith("万") and number >= WAN:
        number, unit = number * WAN, unit[1:]
    if number < 100:
        shown = number.quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        return f"{sign}{_plain(shown)}{unit}"
    if number < WAN:
        magnitude = len(str(int(number)))  # 3 or 4 digits
        cut = _cut(number, Decimal(10) ** (magnitude - 2))
        text, scale = _plain(cut), ""
    elif number < 10 * WAN:
        cut = _cut(number, Decimal(1000))
        text, scale = _plain(cut / WAN), "万"
    elif number < YI:
        cut = _cut(number, WAN)
        text, scale = _plain(cut / WAN), "万"
    else:
        cut = _cut(number, YI / 10)
        text, scale = _plain(cut / YI), "亿"
    more = "余" if cut != number else ""
    return f"{sign}{text}{scale}{more}{unit}"


OPEN = {"“": 0, "‘": 1}
CLOSE = {"”": 0, "’": 1}
MARKS = (("“", "”"), ("‘", "’"))


def nest_quotes(text: str) -> str:
    """Quotes alternate double/single with depth: “推动“双创”” → “推动‘双创’”.

    Curly quotes of either kind are re-marked by how deep they sit; straight ``"`` pairs are read as
    open/close in turn. A closing mark with nothing open is left as it is.
    """
    out: list[str] = []
    stack: list[str] = []  # what opened each level: "curly" or "straight"
    for char in text or "":
        if char in OPEN:
            out.append(MARKS[len(stack) % 2][0])
            stack.append("curly")
        elif char in CLOSE:
            if stack:
                stack.pop()
                out.append(MARKS[len(stack) % 2][1])
            else:
                out.append(char)
        elif char == '"':
            if stack and stack[-1] == "straight":
                stack.pop()
                out.append(MARKS[len(stack) % 2][1])
            else:
                out.append(MARKS[len(stack) % 2][0])
                stack.append("straight")
        else:
            out.append(char)
    return "".join(out)
