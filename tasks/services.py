"""Writes to a plan in the portal: activate a campaign, edit tasks, their units, targets, phases and periods.

Every function checks that ``by`` is office staff and that the campaign is not archived, reads the row again
under a lock, changes it and records one ``PlanChange`` per changed field (who, when, before → after), all in
one transaction. ``by`` is None only from the command line (``import_plan --activate``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaign.dates import cn_date, quarter_of
from campaign.errors import DomainError, PermissionDenied
from campaign.models import Campaign, Phase, ReportingPeriod
from units.access import get_access
from units.models import Unit

from .models import Metric, PlanChange, Responsibility, Target, Task

OFFICE_ONLY = "只有创建办工作人员可以修改实施方案。"
NO_LEAD = "未明确"


# Called in the transaction that moves a period's due date (``period_update``): who was on time depends on
# it. tasks may not import reports, so reports.dashboards registers its recount here (its apps.py).
on_period_due_changed: list = []


def _check_office(by: AbstractBaseUser | None) -> None:
    if by is not None and not get_access(by).is_office:
        raise PermissionDenied(OFFICE_ONLY)


def check_editable(campaign: Campaign) -> None:
    if campaign.is_archived:
        raise DomainError(
            f"“{campaign.title}”已归档，只能查看，不能修改。请在当前活动或待启用的方案中修改。",
            code="archived",
        )


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return cn_date(value)
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


class _Recorder:
    """Collects the changed fields of one save; ``save()`` writes them with one timestamp."""

    def __init__(
        self, *, campaign: Campaign, by, kind: str, obj_id: int, label: str, task: Task | None = None
    ):
        self.common = {
            "campaign": campaign,
            "task": task,
            "by": by,
            "kind": kind,
            "object_id": obj_id,
            "object_label": label[:200],
        }
        self.rows: list[PlanChange] = []

    def field(self, name: str, before, after) -> bool:
        before, after = _text(before), _text(after)
        if before == after:
            return False
        self.rows.append(PlanChange(field=name, before=before, after=after, **self.common))
        return True

    def save(self) -> list[PlanChange]:
        now = timezone.now()
        for row in self.rows:
            row.at = now
        return PlanChange.objects.bulk_create(self.rows)


def _nothing_changed() -> DomainError:
    return DomainError("没有修改任何内容。", code="unchanged")


# ------------------------------------------------------------------------------------------ campaign


def plan_activate(*, campaign: Campaign, by: AbstractBaseUser | None) -> Campaign:
    """Makes ``campaign`` the current one. The campaign that was current is archived: its plan becomes
    read-only, its reports and compilations stay as they are and readable."""
    _check_office(by)
    with transaction.atomic():
        locked = list(
            Campaign.objects.select_for_update().filter(pk=campaign.pk)
            | Campaign.objects.select_for_update().filter(is_active=True)
        )
        campaign = next(c for c in locked if c.pk == campaign.pk)
        if campaign.is_active:
            raise DomainError(f"“{campaign.title}”已经是当前活动。", code="already_active")
        if campaign.is_archived:
            raise DomainError(
                f"“{campaign.title}”已归档，不能重新启用。归档的方案及其报告、汇编仍可查看。", code="archived"
            )
        now = timezone.now()
        changes = []
        for old in locked:
            if old.pk == campaign.pk or not old.is_active:
                continue
            record = _Recorder(
                campaign=old, by=by, kind=PlanChange.Kind.CAMPAIGN, obj_id=old.pk, label=old.title
            )
            record.field("状态", old.status_label, "已归档")
            old.is_active, old.archived_at = False, now
            old.save(update_fields=["is_active", "archived_at"])
            changes.append(record)
        record = _Recorder(
            campaign=campaign, by=by, kind=PlanChange.Kind.CAMPAIGN, obj_id=campaign.pk, label=campaign.title
        )
        record.field("状态", campaign.status_label, "当前活动")
        campaign.is_active = True
        campaign.save(update_fields=["is_active"])
        changes.append(record)
        for record in changes:
            record.save()
    return campaign


# ---------------------------------------------------------------------------------------------- tasks


def _locked_task(task: Task) -> Task:
    return Task.objects.select_for_update().select_related("campaign").get(pk=task.pk)


def _task_label(task: Task) -> str:
    return f"任务{task.number}"


def task_update(*, task: Task, by: AbstractBaseUser | None, title: str, text: str) -> list[PlanChange]:
    """Changes a task's title and full text."""
    _check_office(by)
    title, text = (title or "").strip(), (text or "").strip()
    if not title:
        raise DomainError("任务标题不能为空。")
    if len(title) > 200:
        raise DomainError(f"任务标题有 {len(title)} 个字，最多 200 个字。")
    if not text:
        raise DomainError("任务内容不能为空。")
    with transaction.atomic():
        task = _locked_task(task)
        check_editable(task.campaign)
        record = _Recorder(
            campaign=task.campaign,
            by=by,
            kind=PlanChange.Kind.TASK,
            obj_id=task.pk,
            label=_task_label(task),
            task=task,
        )
        record.field("标题", task.title, title)
        record.field("任务内容", task.text, text)
        if not record.rows:
            raise _nothing_changed()
        task.title, task.text = title, text
        task.save(update_fields=["title", "text"])
        return record.save()


def task_set_units(
    *, task: Task, by: AbstractBaseUser | None, lead: Unit | None, co: list[Unit]
) -> list[PlanChange]:
    """Sets the units the plan names for a task: one lead (牵头) and the co-responsible (配合) units, in order.

    The units made responsible by a plan-wide rule (``by_rule``) stay as they are, unless one of them is now
    named, which makes it named. A named unit can be removed only while it has filed no report on the task:
    reports belong to a task and a unit, and the office should not make a filed report orphaned; such a
    unit can still be changed from lead to co-responsible.
    """
    _check_office(by)
    if lead is None:
        raise DomainError("请选择一个牵头单位：每项任务有且只有一个牵头单位。")
    co = [u for u in dict.fromkeys(co) if u.pk != lead.pk]
    wanted = [lead, *co]
    inactive = [u.name for u in wanted if not u.is_active]
    if inactive:
        raise DomainError(f"以下单位已停用，不能指定为责任单位：{'、'.join(inactive)}。")
    with transaction.atomic():
        task = _locked_task(task)
        check_editable(task.campaign)
        current = list(task.responsibilities.select_related("unit").order_by("order", "id"))
        by_unit = {r.unit_id: r for r in current}
        named = [r for r in current if not r.by_rule]
        old_lead = next((r.unit.name for r in named if r.is_lead), NO_LEAD)
        old_co = "、".join(r.unit.name for r in named if not r.is_lead)

        wanted_ids = {u.pk for u in wanted}
        removed = [r for r in named if r.unit_id not in wanted_ids]
        if removed:
            filed = set(
                task.reports.filter(unit_id__in=[r.unit_id for r in removed]).values_list(
                    "unit_id", flat=True
                )
            )
            blocked = [r.unit.name for r in removed if r.unit_id in filed]
            if blocked:
                raise DomainError(
                    f"{'、'.join(blocked)}已就任务{task.number}填报过进展报告，不能从责任单位中移除"
                    "（移除后这些报告将不再计入任务）。可以改为配合单位。",
                    code="has_reports",
                )

        record = _Recorder(
            campaign=task.campaign,
            by=by,
            kind=PlanChange.Kind.RESPONSIBILITY,
            obj_id=task.pk,
            label=_task_label(task),
            task=task,
        )
        record.field("牵头单位", old_lead, lead.name)
        record.field("配合单位", old_co, "、".join(u.name for u in co))
        if not record.rows:
            raise _nothing_changed()

        Responsibility.objects.filter(pk__in=[r.pk for r in removed]).delete()
        # Everyone co first, so the one-lead constraint holds at every statement.
        task.responsibilities.update(role=Responsibility.Role.CO)
        for order, unit in enumerate(wanted, start=1):
            role = Responsibility.Role.LEAD if unit.pk == lead.pk else Responsibility.Role.CO
            existing = by_unit.get(unit.pk)
            if existing is None:
                Responsibility.objects.create(task=task, unit=unit, role=role, order=order, by_rule=False)
            else:
                existing.role, existing.order, existing.by_rule = role, order, False
                existing.save(update_fields=["role", "order", "by_rule"])
        rest = [r for r in current if r.by_rule and r.unit_id not in wanted_ids]
        for order, r in enumerate(rest, start=len(wanted) + 1):
            if r.order != order:
                r.order = order
                r.save(update_fields=["order"])
        return record.save()


# -------------------------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class NewMetric:
    """A metric the office defines while adding a target: its name, unit of measure and how quarters add up."""

    name: str
    unit_of_measure: str
    aggregation: str = Metric.Aggregation.SUM


def _target_label(task: Task, scope_label: str, metric: Metric) -> str:
    return f"任务{task.number}·{scope_label}{metric.name}"


def _units_text(units) -> str:
    return "、".join(u.name for u in units)


def _metric_text(metric: Metric) -> str:
    return f"{metric.name}（{metric.unit_of_measure}，{metric.get_aggregation_display()}）"


def _metric_create(spec: NewMetric) -> Metric:
    name, uom = (spec.name or "").strip(), (spec.unit_of_measure or "").strip()
    if not name:
        raise DomainError("请填写新指标的名称，如“宣讲场次”。")
    if len(name) > 50:
        raise DomainError(f"指标名称有 {len(name)} 个字，最多 50 个字。")
    if not uom:
        raise DomainError("请填写新指标的计量单位，如“场”“个”“人次”。")
    if len(uom) > 10:
        raise DomainError(f"计量单位有 {len(uom)} 个字，最多 10 个字。")
    if spec.aggregation not in Metric.Aggregation.values:
        raise DomainError("请选择新指标是“流量”（逐季累加）还是“存量”（取最新值）。")
    existing = Metric.objects.filter(name=name, unit_of_measure=uom).first()
    if existing is not None:
        raise DomainError(f"指标“{existing}”已经存在，请在“已有指标”中选择它，不要重复新建。")
    taken = set(Metric.objects.filter(code__startswith="custom-").values_list("code", flat=True))
    n = 1
    while f"custom-{n}" in taken:
        n += 1
    order = (Metric.objects.order_by("-order").values_list("order", flat=True).first() or 0) + 10
    return Metric.objects.create(
        code=f"custom-{n}", name=name, unit_of_measure=uom, aggregation=spec.aggregation, order=order
    )


def _check_target(
    *,
    value: Decimal | None,
    comparison: str,
    scope: str,
    scope_label: str,
    units: list[Unit],
    period_kind: str,
    due_on: dt.date | None,
    added: list[Unit],
    scope_changed: bool = True,
) -> None:
    """The rules of one target, for adding and for editing alike. ``added`` are the units newly put in scope:
    they must be active (a unit deactivated since may stay where it was)."""
    if value is None or value < 0:
        raise DomainError("目标值须为不小于 0 的数字。")
    if comparison not in Target.Comparison.values:
        raise DomainError("请选择“不少于”或“达到”。")
    if scope not in Target.Scope.values:
        raise DomainError("请选择目标的范围（列明单位各自、市上、市区联合或各责任单位各自）。")
    if not scope_label:
        raise DomainError("请填写范围说明，如“崆峒区、华亭市”或“市上”。")
    if len(scope_label) > 60:
        raise DomainError(f"范围说明有 {len(scope_label)} 个字，最多 60 个字。")
    label = Target.Scope(scope).label
    # A change of value alone does not re-judge a scope as imported (e.g. a unit name skipped in the preview).
    if scope_changed and scope in (Target.Scope.EACH_UNIT, Target.Scope.CITY_DISTRICT) and not units:
        raise DomainError(f"范围为“{label}”时请选择范围内的单位（至少一个）。")
    if scope_changed and scope in (Target.Scope.CITY, Target.Scope.EACH_RESPONSIBLE) and units:
        raise DomainError(
            f"范围为“{label}”时不选择范围内单位；如需列明的单位各自达标，请把范围选为“列明单位各自”。"
        )
    inactive = [u.name for u in added if not u.is_active]
    if inactive:
        raise DomainError(f"以下单位已停用，不能列入目标范围：{'、'.join(inactive)}。")
    if period_kind not in Target.PeriodKind.values:
        raise DomainError("请选择时限：截至日期、每年或每学期。")
    if period_kind == Target.PeriodKind.BY_DATE and due_on is None:
        raise DomainError("这是“截至日期”类目标，请填写截至日期。")


def target_create(
    *,
    task: Task,
    by: AbstractBaseUser | None,
    metric: Metric | None = None,
    new_metric: NewMetric | None = None,
    value: Decimal,
    comparison: str,
    scope: str,
    scope_label: str = "",
    units: list[Unit] | None = None,
    period_kind: str,
    due_on: dt.date | None = None,
    source_text: str = "",
) -> Target:
    """Adds a target to a task, on an existing metric or on a new one defined here (``new_metric``).

    Recorded as one history row "新增量化目标" with the whole target as "after" (and "新建指标" when one was
    defined). ``scope_label`` defaults to the units' names, or the scope's own name."""
    _check_office(by)
    if (metric is None) == (new_metric is None):
        raise DomainError("请选择一个已有指标，或填写新指标的名称和计量单位（二者选一）。")
    units = list(dict.fromkeys(units or []))
    scope_label = (
        (scope_label or "").strip()
        or _units_text(units)
        or (Target.Scope(scope).label if scope in Target.Scope.values else "")
    )
    source_text = (source_text or "").strip() or "在系统中添加"
    if len(source_text) > 300:
        raise DomainError(f"原文有 {len(source_text)} 个字，最多 300 个字。")
    _check_target(
        value=value,
        comparison=comparison,
        scope=scope,
        scope_label=scope_label,
        units=units,
        period_kind=period_kind,
        due_on=due_on,
        added=units,
    )
    with transaction.atomic():
        task = _locked_task(task)
        check_editable(task.campaign)
        created = _metric_create(new_metric) if new_metric is not None else None
        metric = created or metric
        order = (task.targets.order_by("-order").values_list("order", flat=True).first() or 0) + 1
        target = Target.objects.create(
            task=task,
            metric=metric,
            value=value,
            comparison=comparison,
            scope=scope,
            scope_label=scope_label,
            period_kind=period_kind,
            due_on=due_on,
            source_text=source_text,
            order=order,
        )
        target.units.set(units)
        record = _Recorder(
            campaign=task.campaign,
            by=by,
            kind=PlanChange.Kind.TARGET,
            obj_id=target.pk,
            label=_target_label(task, scope_label, metric),
            task=task,
        )
        if created is not None:
            record.field("新建指标", "", _metric_text(created))
        record.field("新增量化目标", "", target.summary)
        record.save()
    return target


def target_update(
    *,
    target: Target,
    by: AbstractBaseUser | None,
    value: Decimal,
    comparison: str,
    due_on: dt.date | None,
    metric: Metric | None = None,
    scope: str | None = None,
    scope_label: str | None = None,
    units: list[Unit] | None = None,
    period_kind: str | None = None,
) -> list[PlanChange]:
    """Changes a target's value, comparison and due date (a "by a date" target needs one), and — when given —
    its metric, scope, scope label, units in scope and kind of deadline. One history row per changed field."""
    _check_office(by)
    with transaction.atomic():
        target = (
            Target.objects.select_for_update().select_related("task__campaign", "metric").get(pk=target.pk)
        )
        task = target.task
        check_editable(task.campaign)
        old_units = list(target.units.order_by("order", "id"))
        new_metric = metric or target.metric
        new_scope = scope if scope is not None else target.scope
        new_units = list(dict.fromkeys(units)) if units is not None else old_units
        new_label = (scope_label or "").strip() if scope_label is not None else target.scope_label
        new_label = new_label or _units_text(new_units) or Target.Scope(new_scope).label
        new_kind = period_kind if period_kind is not None else target.period_kind
        if units is None and new_scope in (Target.Scope.CITY, Target.Scope.EACH_RESPONSIBLE):
            new_units = []  # the units belonged to the old scope
        _check_target(
            value=value,
            comparison=comparison,
            scope=new_scope,
            scope_label=new_label,
            units=new_units,
            period_kind=new_kind,
            due_on=due_on,
            added=[u for u in new_units if u not in old_units],
            scope_changed=scope is not None or units is not None,
        )
        record = _Recorder(
            campaign=task.campaign,
            by=by,
            kind=PlanChange.Kind.TARGET,
            obj_id=target.pk,
            label=_target_label(task, target.scope_label, target.metric),
            task=task,
        )
        record.field("目标值", target.value, value)
        record.field("比较", target.get_comparison_display(), Target.Comparison(comparison).label)
        record.field("截至日期", target.due_on, due_on)
        record.field("指标", _metric_text(target.metric), _metric_text(new_metric))
        record.field("范围", target.get_scope_display(), Target.Scope(new_scope).label)
        record.field("范围说明", target.scope_label, new_label)
        record.field("范围内单位", _units_text(old_units), _units_text(new_units))
        record.field("时限", target.get_period_kind_display(), Target.PeriodKind(new_kind).label)
        if not record.rows:
            raise _nothing_changed()
        target.value, target.comparison, target.due_on = value, comparison, due_on
        target.metric, target.scope, target.scope_label, target.period_kind = (
            new_metric,
            new_scope,
            new_label,
            new_kind,
        )
        target.save(
            update_fields=["value", "comparison", "due_on", "metric", "scope", "scope_label", "period_kind"]
        )
        if [u.pk for u in new_units] != [u.pk for u in old_units]:
            target.units.set(new_units)
        return record.save()


def target_delete(*, target: Target, by: AbstractBaseUser | None) -> PlanChange:
    """Removes a target from its task. A target only states the goal: the figures units reported stay with
    their reports and metric, so nothing reported is lost; the history keeps the whole target as "before"."""
    _check_office(by)
    with transaction.atomic():
        target = (
            Target.objects.select_for_update().select_related("task__campaign", "metric").get(pk=target.pk)
        )
        task = target.task
        check_editable(task.campaign)
        record = _Recorder(
            campaign=task.campaign,
            by=by,
            kind=PlanChange.Kind.TARGET,
            obj_id=target.pk,
            label=_target_label(task, target.scope_label, target.metric),
            task=task,
        )
        record.field("删除量化目标", target.summary, "")
        target.delete()
        return record.save()[0]


# ----------------------------------------------------------------------------------- phases, periods


def _clean_phase(name: str, starts_on: dt.date | None, ends_on: dt.date | None) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError("阶段名称不能为空。")
    if len(name) > 50:
        raise DomainError(f"阶段名称有 {len(name)} 个字，最多 50 个字。")
    if starts_on is None or ends_on is None:
        raise DomainError("请填写阶段的开始日期和结束日期。")
    if starts_on > ends_on:
        raise DomainError(
            f"阶段的开始日期（{cn_date(starts_on)}）晚于结束日期（{cn_date(ends_on)}），请检查。"
        )
    return name


def _check_phase_in_plan(
    campaign: Campaign, name: str, starts_on: dt.date, ends_on: dt.date, phase: Phase | None = None
) -> None:
    """A phase lies within the campaign's span and has a name of its own in the plan. Phases may overlap:
    real plans let one phase begin before the last ends (the Pingliang plan does, twice, by a month)."""
    if starts_on < campaign.starts_on or ends_on > campaign.ends_on:
        raise DomainError(
            f"阶段须在创建活动的实施期内（{cn_date(campaign.starts_on)}至{cn_date(campaign.ends_on)}），"
            f"所填为{cn_date(starts_on)}至{cn_date(ends_on)}。请调整阶段日期。"
        )
    others = Phase.objects.filter(campaign=campaign, name=name)
    if phase is not None:
        others = others.exclude(pk=phase.pk)
    if others.exists():
        raise DomainError(f"本方案已有名为“{name}”的阶段，请换一个名称。")


def _renumber_phases(campaign: Campaign) -> None:
    """Phases are numbered in the order of their dates: 1, 2, 3 … without gaps."""
    phases = list(Phase.objects.filter(campaign=campaign).order_by("starts_on", "ends_on", "id"))
    if [p.order for p in phases] == list(range(1, len(phases) + 1)):
        return
    # Out of the way first, so the unique (campaign, order) holds at every statement.
    Phase.objects.filter(campaign=campaign).update(order=F("order") + 1000)
    for number, phase in enumerate(phases, start=1):
        Phase.objects.filter(pk=phase.pk).update(order=number)


def _phase_text(phase: Phase) -> str:
    return f"{phase.name}，{cn_date(phase.starts_on)}至{cn_date(phase.ends_on)}"


def phase_update(
    *, phase: Phase, by: AbstractBaseUser | None, name: str, starts_on: dt.date, ends_on: dt.date
) -> list[PlanChange]:
    _check_office(by)
    name = _clean_phase(name, starts_on, ends_on)
    with transaction.atomic():
        # The campaign first, as phase_create and phase_delete do: all of them renumber its phases.
        Campaign.objects.select_for_update().filter(pk=phase.campaign_id).first()
        phase = Phase.objects.select_for_update().select_related("campaign").get(pk=phase.pk)
        check_editable(phase.campaign)
        _check_phase_in_plan(phase.campaign, name, starts_on, ends_on, phase)
        record = _Recorder(
            campaign=phase.campaign, by=by, kind=PlanChange.Kind.PHASE, obj_id=phase.pk, label=phase.name
        )
        record.field("名称", phase.name, name)
        record.field("开始日期", phase.starts_on, starts_on)
        record.field("结束日期", phase.ends_on, ends_on)
        if not record.rows:
            raise _nothing_changed()
        phase.name, phase.starts_on, phase.ends_on = name, starts_on, ends_on
        phase.save(update_fields=["name", "starts_on", "ends_on"])
        _renumber_phases(phase.campaign)
        return record.save()


def phase_create(
    *,
    campaign: Campaign,
    by: AbstractBaseUser | None,
    name: str,
    starts_on: dt.date,
    ends_on: dt.date,
    description: str = "",
) -> Phase:
    """Adds a phase; phases are then numbered by their dates."""
    _check_office(by)
    name = _clean_phase(name, starts_on, ends_on)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        check_editable(campaign)
        _check_phase_in_plan(campaign, name, starts_on, ends_on)
        last = Phase.objects.filter(campaign=campaign).order_by("-order").values_list("order", flat=True)
        phase = Phase.objects.create(
            campaign=campaign,
            order=(last.first() or 0) + 1,
            name=name,
            starts_on=starts_on,
            ends_on=ends_on,
            description=(description or "").strip(),
        )
        _renumber_phases(campaign)
        record = _Recorder(
            campaign=campaign, by=by, kind=PlanChange.Kind.PHASE, obj_id=phase.pk, label=phase.name
        )
        record.field("新增阶段", "", _phase_text(phase))
        record.save()
    phase.refresh_from_db()
    return phase


def phase_delete(*, phase: Phase, by: AbstractBaseUser | None) -> PlanChange:
    """Removes a phase. Nothing else hangs on a phase (reports belong to periods), so a confirmation is enough;
    the phases after it move up one number."""
    _check_office(by)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=phase.campaign_id)
        check_editable(campaign)
        phase = Phase.objects.select_for_update().get(pk=phase.pk)
        record = _Recorder(
            campaign=campaign, by=by, kind=PlanChange.Kind.PHASE, obj_id=phase.pk, label=phase.name
        )
        record.field("删除阶段", _phase_text(phase), "")
        phase.delete()
        _renumber_phases(campaign)
        return record.save()[0]


def period_update(
    *, period: ReportingPeriod, by: AbstractBaseUser | None, due_on: dt.date
) -> list[PlanChange]:
    """Moves a period's due date. A closed period keeps its date: its on-time figures are settled; a unit
    that needs to report late is given a reopening instead."""
    _check_office(by)
    if due_on is None:
        raise DomainError("请填写报送截止日期。")
    with transaction.atomic():
        period = ReportingPeriod.objects.select_for_update().select_related("campaign").get(pk=period.pk)
        check_editable(period.campaign)
        if period.is_closed:
            raise DomainError(
                f"{period.label}已截止，不能再改截止日期（会改变已统计的按时报送率）。"
                "如需让个别单位补报，请在“重新开放”中为该单位开放。",
                code="closed",
            )
        if due_on < period.ends_on:
            raise DomainError(f"报送截止日期不能早于{period.label}的最后一天（{cn_date(period.ends_on)}）。")
        record = _Recorder(
            campaign=period.campaign, by=by, kind=PlanChange.Kind.PERIOD, obj_id=period.pk, label=period.label
        )
        record.field("报送截止日期", period.due_on, due_on)
        if not record.rows:
            raise _nothing_changed()
        period.due_on = due_on
        period.save(update_fields=["due_on"])
        for hook in on_period_due_changed:
            hook(period=period)
        return record.save()


def period_create_next(*, campaign: Campaign, by: AbstractBaseUser | None) -> ReportingPeriod:
    """Adds the quarter after the campaign's last period (or its first quarter), with the default due date."""
    _check_office(by)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        check_editable(campaign)
        last = ReportingPeriod.objects.filter(campaign=campaign).order_by("-year", "-quarter").first()
        if last is None:
            year, quarter = quarter_of(campaign.starts_on)
        else:
            year, quarter = (last.year + 1, 1) if last.quarter == 4 else (last.year, last.quarter + 1)
        first, final, due = ReportingPeriod.bounds_for(year, quarter)
        period = ReportingPeriod.objects.create(
            campaign=campaign, year=year, quarter=quarter, starts_on=first, ends_on=final, due_on=due
        )
        record = _Recorder(
            campaign=campaign, by=by, kind=PlanChange.Kind.PERIOD, obj_id=period.pk, label=period.label
        )
        record.field("新增报告期", "", f"{period.label}，报送截止{cn_date(due)}")
        record.save()
    return period
