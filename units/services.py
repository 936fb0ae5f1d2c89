"""Writes about units: the office's per-unit settings."""

from __future__ import annotations

from campaign.errors import DomainError, PermissionDenied

from .access import get_access
from .models import Membership, Unit


def unit_set_requires_signoff(*, unit: Unit, by, on: bool) -> Unit:
    """Turn on or off "报送前需分管领导审核" for ``unit`` (office only). Reports already sent keep their state:
    the setting is read at each submit."""
    if not get_access(by).is_office:
        raise PermissionDenied("只有创建办可以设置单位的报送流程（是否需分管领导审核）。")
    has_leader = Membership.objects.filter(
        unit=unit, role=Membership.Role.LEADER, is_active=True, user__is_active=True
    ).exists()
    if on and not has_leader:
        raise DomainError(
            f"{unit.name}尚未设置分管领导账号，开启后报告将无人审核签发。请先为该单位添加分管领导，再开启此设置。",
            code="no_leader",
        )
    if unit.requires_signoff != on:
        unit.requires_signoff = on
        unit.save(update_fields=["requires_signoff"])
    return unit
