"""Writes to indicator systems, their indicators and the indicator ↔ task links. Each checks that the office
asks (``access.require_edit``) and that the system is in use, and raises a DomainError a person can act on.

Points live on leaves only: a branch's points are the sum of its leaves (``selectors.indicator_tree``), so a
branch is stored with 0 and its points are never typed. ``level`` is the depth (1–3) and follows the parent.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from campaign.errors import DomainError, NotFound
from tasks.models import Metric, Task
from units.access import get_access

from . import access as rules
from .importer import ParsedSystem
from .models import Indicator, IndicatorLink, IndicatorSystem

SYSTEM_FIELDS = ("name", "scope", "description", "source", "full_score", "pass_score")
NOT_FOUND_SYSTEM = "没有找到这个指标体系，可能已被删除。请回到指标体系列表查找。"
NOT_FOUND_INDICATOR = "没有找到这个指标，可能已被删除。请回到指标体系页面查找。"
ARCHIVED = "该指标体系已归档，不能修改。如需修改，请先在指标体系页面点“恢复使用”。"


# ------------------------------------------------------------------------------------------- reads


def system_for(user, pk) -> IndicatorSystem:
    """A system the person may read (office and leadership); NotFound for an unknown id."""
    rules.require_read(get_access(user))
    system = IndicatorSystem.objects.filter(pk=pk).select_related("campaign").first()
    if system is None:
        raise NotFound(NOT_FOUND_SYSTEM)
    return system


def indicator_for(user, pk) -> Indicator:
    rules.require_read(get_access(user))
    indicator = Indicator.objects.filter(pk=pk).select_related("system", "parent").first()
    if indicator is None:
        raise NotFound(NOT_FOUND_INDICATOR)
    return indicator


# ------------------------------------------------------------------------------------------- checks


def _require_edit(by) -> None:
    rules.require_edit(get_access(by))


def _require_active(system: IndicatorSystem) -> None:
    if not system.is_active:
        raise DomainError(ARCHIVED)


def _decimal(value, label: str, *, required: bool = True) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise DomainError(f"请填写{label}。")
        return None
    try:
        number = Decimal(str(value).strip().replace("分", ""))
    except InvalidOperation:
        raise DomainError(f"{label}“{value}”不是数字（应填如 2 或 2.5）。") from None
    if not number.is_finite() or number < 0:
        raise DomainError(f"{label}不能为负数。")
    if number >= Decimal("10000") or number != number.quantize(Decimal("0.01")):
        raise DomainError(f"{label}超出范围（最多两位小数，小于 10000）。")
    return number


def _text(value, label: str, *, max_length: int, required: bool = False) -> str:
    text = (value or "").replace("\x00", "").strip()
    if required and not text:
        raise DomainError(f"请填写{label}。")
    if len(text) > max_length:
        raise DomainError(f"{label}不能超过 {max_length} 字（现在 {len(text)} 字）。")
    return text


def _clean_system_fields(fields: dict) -> dict:
    cleaned = {}
    if "name" in fields:
        cleaned["name"] = _text(fields["name"], "指标体系名称", max_length=200, required=True)
    if "scope" in fields:
        scope = fields["scope"] or IndicatorSystem.Scope.NATIONAL
        if scope not in IndicatorSystem.Scope.values:
            raise DomainError("请选择层级：国家、省级或市级。")
        cleaned["scope"] = scope
    if "description" in fields:
        cleaned["description"] = _text(fields["description"], "说明", max_length=5000)
    if "source" in fields:
        cleaned["source"] = _text(fields["source"], "依据文件", max_length=300)
    if "full_score" in fields:
        cleaned["full_score"] = _decimal(fields["full_score"], "满分")
        if cleaned["full_score"] == 0:
            raise DomainError("满分应大于 0。")
    if "pass_score" in fields:
        cleaned["pass_score"] = _decimal(fields["pass_score"], "申报分数线")
    full = cleaned.get("full_score")
    passing = cleaned.get("pass_score")
    if full is not None and passing is not None and passing > full:
        raise DomainError(
            f"申报分数线（{passing.normalize():f} 分）不能高于满分（{full.normalize():f} 分）。"
        )
    return cleaned


# ------------------------------------------------------------------------------------------- systems


def create_system(*, by, campaign, **fields) -> IndicatorSystem:
    _require_edit(by)
    fields.setdefault("full_score", Decimal(100))
    fields.setdefault("pass_score", Decimal(90))
    cleaned = _clean_system_fields(fields)
    return IndicatorSystem.objects.create(campaign=campaign, created_by=by, **cleaned)


def update_system(*, by, system: IndicatorSystem, **fields) -> IndicatorSystem:
    _require_edit(by)
    unknown = set(fields) - set(SYSTEM_FIELDS)
    if unknown:
        raise DomainError(f"不能修改这些项：{'、'.join(sorted(unknown))}。")
    merged = {name: getattr(system, name) for name in ("full_score", "pass_score")} | fields
    cleaned = _clean_system_fields(merged)
    for name, value in cleaned.items():
        if name in fields or name in ("full_score", "pass_score"):
            setattr(system, name, value)
    system.save()
    return system


def set_system_active(*, by, system: IndicatorSystem, active: bool) -> IndicatorSystem:
    """Archive a system (read-only, kept with its accounts and scores) or bring it back into use."""
    _require_edit(by)
    system.is_active = active
    system.save(update_fields=["is_active", "updated_at"])
    return system


@transaction.atomic
def import_system(
    *,
    by,
    campaign,
    parsed: ParsedSystem,
    name: str,
    scope: str = IndicatorSystem.Scope.NATIONAL,
    source: str = "",
    description: str = "",
    full_score=Decimal(100),
    pass_score=Decimal(90),
    is_example: bool = False,
) -> IndicatorSystem:
    """A new system with the parsed tree, in one transaction. ``by`` None is the command line (or the demo)."""
    if by is not None:
        _require_edit(by)
    if parsed.errors:
        raise DomainError(
            f"指标表还有 {len(parsed.errors)} 处错误（如：{parsed.errors[0]}），请修改文件后重新上传。"
        )
    cleaned = _clean_system_fields(
        {
            "name": name,
            "scope": scope,
            "source": source,
            "description": description,
            "full_score": full_score,
            "pass_score": pass_score,
        }
    )
    system = IndicatorSystem.objects.create(
        campaign=campaign, created_by=by, is_example=is_example, **cleaned
    )
    branches = {row.parent for row in parsed.rows}
    by_code: dict[str, Indicator] = {}
    for order, row in enumerate(parsed.rows, start=1):
        by_code[row.code] = Indicator.objects.create(
            system=system,
            parent=by_code.get(row.parent) if row.parent else None,
            code=row.code,
            title=row.title,
            level=row.level,
            points=Decimal(0) if row.code in branches else row.points_decimal or Decimal(0),
            scoring_rule=row.scoring_rule,
            evidence_expected=row.evidence_expected,
            order=order * 10,
        )
    return system


# ------------------------------------------------------------------------------------------- indicators


def _has_work(indicator: Indicator) -> list[str]:
    """What the office has done on a leaf that would be lost if it became a branch."""
    from .models import EvidencePick, IndicatorAccount, OfficeFile

    work = []
    if indicator.links.exclude(state=IndicatorLink.State.SUGGESTED).exists():
        work.append("对应任务")
    if IndicatorAccount.objects.filter(indicator=indicator).exists():
        work.append("情况说明或自评得分")
    if EvidencePick.objects.filter(indicator=indicator).exists():
        work.append("入卷材料")
    if OfficeFile.objects.filter(indicator=indicator).exists():
        work.append("创建办材料")
    return work


def _check_can_take_children(parent: Indicator) -> None:
    if parent.level >= Indicator.MAX_LEVEL:
        raise DomainError("三级指标下不能再添加下级指标：指标体系最多三级。")
    if not parent.children.exists():
        work = _has_work(parent)
        if work:
            raise DomainError(
                f"“{parent.code} {parent.title}”已有{'、'.join(work)}，不能再添加下级指标（它将不再是评分的末级指标）。"
                "请先新建一个同级指标，或移除这些内容。"
            )


def _check_code(system: IndicatorSystem, code: str, *, exclude: int | None = None) -> str:
    code = _text(code, "序号", max_length=20, required=True)
    clash = Indicator.objects.filter(system=system, code=code)
    if exclude:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise DomainError(f"序号“{code}”已被本体系的另一个指标使用，请换一个序号。")
    return code


def _next_order(system: IndicatorSystem) -> int:
    return (Indicator.objects.filter(system=system).aggregate(m=Max("order"))["m"] or 0) + 10


@transaction.atomic
def add_indicator(
    *,
    by,
    system: IndicatorSystem,
    parent: Indicator | None,
    code: str,
    title: str,
    points=None,
    scoring_rule: str = "",
    evidence_expected: str = "",
) -> Indicator:
    """A new indicator at the end of its parent's children (a new leaf; its parent becomes a branch)."""
    _require_edit(by)
    _require_active(system)
    if parent is not None:
        if parent.system_id != system.pk:
            raise DomainError("上级指标不属于这个指标体系。")
        _check_can_take_children(parent)
    code = _check_code(system, code)
    indicator = Indicator.objects.create(
        system=system,
        parent=parent,
        code=code,
        title=_text(title, "指标名称", max_length=300, required=True),
        level=parent.level + 1 if parent else 1,
        points=_decimal(points, "分值"),
        scoring_rule=_text(scoring_rule, "评分标准", max_length=5000),
        evidence_expected=_text(evidence_expected, "佐证材料要求", max_length=5000),
        order=_next_order(system),
    )
    if parent is not None and parent.points:
        parent.points = Decimal(0)  # a branch's points are its leaves'
        parent.save(update_fields=["points"])
    if parent is not None:
        parent.links.filter(state=IndicatorLink.State.SUGGESTED).delete()
    return indicator


def update_indicator(
    *,
    by,
    indicator: Indicator,
    code: str,
    title: str,
    points=None,
    scoring_rule: str = "",
    evidence_expected: str = "",
) -> Indicator:
    _require_edit(by)
    _require_active(indicator.system)
    is_branch = indicator.children.exists()
    indicator.code = _check_code(indicator.system, code, exclude=indicator.pk)
    indicator.title = _text(title, "指标名称", max_length=300, required=True)
    if is_branch:
        given = _decimal(points, "分值", required=False)
        if given:
            raise DomainError("上级指标的分值由其下末级指标合计得出，不能直接填写。请修改末级指标的分值。")
        indicator.points = Decimal(0)
    else:
        indicator.points = _decimal(points, "分值")
    indicator.scoring_rule = _text(scoring_rule, "评分标准", max_length=5000)
    indicator.evidence_expected = _text(evidence_expected, "佐证材料要求", max_length=5000)
    try:
        with transaction.atomic():
            indicator.save()
    except IntegrityError:
        raise DomainError(f"序号“{indicator.code}”已被本体系的另一个指标使用，请换一个序号。") from None
    return indicator


def _subtree_depth(indicator: Indicator) -> int:
    """Levels below ``indicator`` (0 for a leaf)."""
    children = list(indicator.children.all())
    return 1 + max(_subtree_depth(c) for c in children) if children else 0


def _descendant_ids(indicator: Indicator) -> set[int]:
    ids: set[int] = set()
    frontier = [indicator.pk]
    while frontier:
        frontier = list(Indicator.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids.update(frontier)
    return ids


@transaction.atomic
def move_indicator(*, by, indicator: Indicator, parent: Indicator | None) -> Indicator:
    """Put an indicator (with its subtree) under another parent, or make it a 一级指标; levels follow."""
    _require_edit(by)
    system = indicator.system
    _require_active(system)
    if parent is not None:
        if parent.system_id != system.pk:
            raise DomainError("目标上级指标不属于这个指标体系。")
        if parent.pk == indicator.pk or parent.pk in _descendant_ids(indicator):
            raise DomainError("不能把指标移到它自己或它的下级指标之下。")
        if parent.level + 1 + _subtree_depth(indicator) > Indicator.MAX_LEVEL:
            raise DomainError("移动后会超过三级，不能移动。指标体系最多三级（一级、二级、三级）。")
        _check_can_take_children(parent)
    if indicator.parent_id == (parent.pk if parent else None):
        return indicator
    old_parent = indicator.parent
    indicator.parent = parent
    indicator.order = _next_order(system)
    indicator.save(update_fields=["parent", "order"])
    _relevel(indicator, parent.level + 1 if parent else 1)
    if parent is not None:
        if parent.points:
            parent.points = Decimal(0)
            parent.save(update_fields=["points"])
        parent.links.filter(state=IndicatorLink.State.SUGGESTED).delete()
    if old_parent is not None and not old_parent.children.exists():
        pass  # the old parent is a leaf again, with 0 points until the office gives it some
    return indicator


def _relevel(indicator: Indicator, level: int) -> None:
    if indicator.level != level:
        indicator.level = level
        indicator.save(update_fields=["level"])
    for child in indicator.children.all():
        _relevel(child, level + 1)


@transaction.atomic
def shift_indicator(*, by, indicator: Indicator, step: int) -> Indicator:
    """Move an indicator one place up (step -1) or down (+1) among its siblings."""
    _require_edit(by)
    _require_active(indicator.system)
    siblings = list(
        Indicator.objects.filter(system=indicator.system, parent=indicator.parent).order_by("order", "id")
    )
    index = next(i for i, s in enumerate(siblings) if s.pk == indicator.pk)
    other = index + (1 if step > 0 else -1)
    if not 0 <= other < len(siblings):
        return indicator
    siblings[index], siblings[other] = siblings[other], siblings[index]
    orders = sorted(s.order for s in siblings)
    if len(set(orders)) < len(orders):
        orders = [(i + 1) * 10 + orders[0] for i in range(len(orders))]
    for sibling, order in zip(siblings, orders, strict=True):
        if sibling.order != order:
            sibling.order = order
            sibling.save(update_fields=["order"])
    indicator.refresh_from_db()
    return indicator


def deletion_impact(indicator: Indicator) -> dict:
    """What deleting ``indicator`` takes with it, for the confirmation page."""
    from .models import EvidencePick, IndicatorAccount, OfficeFile

    ids = _descendant_ids(indicator) | {indicator.pk}
    return {
        "indicators": len(ids) - 1,
        "links": IndicatorLink.objects.filter(indicator_id__in=ids)
        .exclude(state=IndicatorLink.State.SUGGESTED)
        .count(),
        "accounts": IndicatorAccount.objects.filter(indicator_id__in=ids).count(),
        "picks": EvidencePick.objects.filter(indicator_id__in=ids).count(),
        "office_files": OfficeFile.objects.filter(indicator_id__in=ids).count(),
    }


@transaction.atomic
def delete_indicator(*, by, indicator: Indicator) -> None:
    """Delete an indicator with its sub-indicators, links, account, score history and picks."""
    _require_edit(by)
    _require_active(indicator.system)
    indicator.delete()


# ------------------------------------------------------------------------------------------- links


def _decide(link: IndicatorLink, by, state: str) -> IndicatorLink:
    link.state = state
    link.decided_by = by
    link.decided_at = timezone.now()
    link.save(update_fields=["state", "decided_by", "decided_at"])
    return link


def link_for(user, pk) -> IndicatorLink:
    rules.require_read(get_access(user))
    link = IndicatorLink.objects.filter(pk=pk).select_related("indicator__system", "task", "metric").first()
    if link is None:
        raise NotFound("没有找到这条对应关系，可能已被删除。请刷新页面。")
    return link


def confirm_link(*, by, link: IndicatorLink) -> IndicatorLink:
    _require_edit(by)
    _require_active(link.indicator.system)
    return _decide(link, by, IndicatorLink.State.CONFIRMED)


def reject_link(*, by, link: IndicatorLink) -> IndicatorLink:
    _require_edit(by)
    _require_active(link.indicator.system)
    return _decide(link, by, IndicatorLink.State.REJECTED)


def reopen_link(*, by, link: IndicatorLink) -> IndicatorLink:
    """Take back a decision: the link is a suggestion again (the office's undo)."""
    _require_edit(by)
    _require_active(link.indicator.system)
    link.state = IndicatorLink.State.SUGGESTED
    link.decided_by = None
    link.decided_at = None
    link.save(update_fields=["state", "decided_by", "decided_at"])
    return link


@transaction.atomic
def add_link(*, by, indicator: Indicator, task: Task, metric: Metric | None = None) -> IndicatorLink:
    """A link the office makes by hand: confirmed at once. An existing link for the same task (and metric)
    is confirmed instead of duplicated."""
    _require_edit(by)
    _require_active(indicator.system)
    if indicator.children.exists():
        raise DomainError("只有末级指标（计分的指标）可以对应任务。")
    if task.campaign_id != indicator.system.campaign_id:
        raise DomainError("这项任务不属于本指标体系所在的创建活动。")
    if metric is not None and not task.targets.filter(metric=metric).exists():
        raise DomainError(f"任务 {task.number} 没有“{metric.name}”这一量化目标。")
    link = IndicatorLink.objects.filter(indicator=indicator, task=task, metric=metric).first()
    if link is None:
        link = IndicatorLink.objects.create(indicator=indicator, task=task, metric=metric)
    return _decide(link, by, IndicatorLink.State.CONFIRMED)


@transaction.atomic
def suggest_links(*, by, system: IndicatorSystem, **options) -> dict:
    """Suggestions from shared words (``mapping.suggestions``) for every leaf. A link the office confirmed or
    rejected is never touched; suggestions no longer above the threshold are removed; the rest are refreshed.
    ``by`` None is the command line or the demo."""
    from .mapping import suggestions

    if by is not None:
        _require_edit(by)
    _require_active(system)
    found = suggestions(system, **options)
    existing = {
        (link.indicator_id, link.task_id): link
        for link in IndicatorLink.objects.filter(indicator__system=system).order_by("id")
    }
    decided = {key for key, link in existing.items() if link.state != IndicatorLink.State.SUGGESTED}
    created = updated = 0
    keep: set[int] = set()
    for s in found:
        key = (s.indicator.pk, s.task.pk)
        if key in decided:
            continue
        link = existing.get(key)
        if link is None:
            link = IndicatorLink.objects.create(
                indicator=s.indicator,
                task=s.task,
                metric=s.metric,
                similarity=s.similarity,
                shared_words=s.shared_text,
            )
            created += 1
        else:
            link.metric = s.metric
            link.similarity = s.similarity
            link.shared_words = s.shared_text
            link.save(update_fields=["metric", "similarity", "shared_words"])
            updated += 1
        keep.add(link.pk)
    stale = IndicatorLink.objects.filter(
        indicator__system=system, state=IndicatorLink.State.SUGGESTED
    ).exclude(pk__in=keep)
    removed = stale.count()
    stale.delete()
    return {"created": created, "updated": updated, "removed": removed, "decided": len(decided)}
