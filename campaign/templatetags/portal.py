"""Template helpers: Chinese dates, numbers without trailing zeros, status lights."""

import datetime as dt
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.html import format_html

from campaign import lights
from campaign.dates import cn_date

register = template.Library()


@register.filter
def cndate(value):
    """2024年3月5日"""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return cn_date(value)


@register.filter
def cndatetime(value):
    """2024年3月5日 14:05"""
    if not value:
        return ""
    value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{cn_date(value)} {value:%H:%M}"


@register.filter
def num(value):
    """12.50 → 12.5, 3.00 → 3; None → —"""
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal | float):
        text = f"{Decimal(str(value)).normalize():f}"
        return text
    return value


@register.simple_tag
def light(color: str, label: str = ""):
    """A status light with a shape as well as a colour, readable without colour vision."""
    spec = lights.light(color)
    return format_html(
        '<span class="badge {} light light-{}" title="{}">{} {}</span>',
        spec.css,
        spec.key,
        label or spec.label,
        spec.symbol,
        label or spec.label,
    )


@register.filter
def percent(value, digits=1):
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f}%"


@register.filter
def absval(value):
    return abs(value)
