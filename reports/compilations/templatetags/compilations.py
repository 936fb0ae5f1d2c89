"""Compilation bits that other apps' pages include, so those apps never import this one (compilations
reads dashboards, not the other way round)."""

from django import template

from ..selectors import latest_compilations

register = template.Library()


@register.inclusion_tag("compilations/_latest.html")
def latest_compilations_list(limit: int = 5) -> dict:
    return {"compilations": latest_compilations(limit)}
