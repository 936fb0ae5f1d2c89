"""Writes to a plan in the portal: activate a campaign, edit tasks, their units, targets, phases and periods.

Every function checks that ``by`` is office staff and that the campaign is not archived, reads the row again
under a lock, changes it and records one ``PlanChange`` per changed field (who, when, before → after), all in
one transaction. ``by`` is None only from the command line (``import_plan --activate``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from campaign.dates import cn_date, quarter_of
from campaign.errors import DomainError, PermissionDenied
from campaign.models import Campaign, Phase, ReportingPeriod
from units.access import get_access
from units.models import Unit

from .models import PlanChange, Responsibility, Target, Task

OFFICE_ONLY = "只有创建办工作人员可以修改实施方案。"
NO_LEAD = "未明确"


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


def target_update(
    *,
    target: Target,
    by: AbstractBaseUser | None,
    value: Decimal,
    comparison: str,
    due_on: dt.date | None,
) -> list[PlanChange]:
    """Changes a target's value, comparison and due date (a "by a date" target needs one)."""
    _check_office(by)
    if value is None or value < 0:
        raise DomainError("目标值须为不小于 0 的数字。")
    if comparison not in Target.Comparison.values:
        raise DomainError("请选择“不少于”或“达到”。")
    with transaction.atomic():
        target = (
            Target.objects.select_for_update().select_related("task__campaign", "metric").get(pk=target.pk)
        )
        task = target.task
        check_editable(task.campaign)
        if target.period_kind == Target.PeriodKind.BY_DATE and due_on is None:
            raise DomainError("这是“截至日期”类目标，请填写截至日期。")
        record = _Recorder(
            campaign=task.campaign,
            by=by,
            kind=PlanChange.Kind.TARGET,
            obj_id=target.pk,
            label=f"任务{task.number}·{target.scope_label}{target.metric.name}",
            task=task,
        )
        record.field("目标值", target.value, value)
        record.field("比较", target.get_comparison_display(), Target.Comparison(comparison).label)
        record.field("截至日期", target.due_on, due_on)
        if not record.rows:
            raise _nothing_changed()
        target.value, target.comparison, target.due_on = value, comparison, due_on
        target.save(update_fields=["value", "comparison", "due_on"])
        return record.save()


# ----------------------------------------------------------------------------------- phases, periods


def phase_update(
    *, phase: Phase, by: AbstractBaseUser | None, name: str, starts_on: dt.date, ends_on: dt.date
) -> list[PlanChange]:
    _check_office(by)
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
    with transaction.atomic():
        phase = Phase.objects.select_for_update().select_related("campaign").get(pk=phase.pk)
        check_editable(phase.campaign)
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
        return record.save()


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
