"""Demo reports for a fresh install: past quarters filled with plausible reports in every state, and some
drafts and submissions in the open quarter, so dashboards and compiled reports have something to show.

The phrases are drawn from the example summaries in ``fixtures/source/example-summary-*.txt``. Everything
is deterministic (seeded by ids) and idempotent: a (period, unit, task) that already has a report is left
alone, so running ``setup_demo`` again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import MetricValue, ProgressReport, ReportEvent

# Openings of the 工作进展 text; {task} is the task's title, {figures} the reported figures.
PROGRESS_OPENINGS = [
    "本季度，我单位围绕“{task}”任务，坚持以铸牢中华民族共同体意识为主线，将任务纳入年度重点工作统筹推进。",
    "按照创建工作实施方案分工，我单位认真落实“{task}”任务，召开专题会议研究部署，明确责任领导和具体责任人。",
    "对照“{task}”任务要求，我单位细化工作措施，建立工作台账，做到任务清单化、责任具体化。",
    "本季度紧紧围绕“{task}”，结合单位职能，推动各项工作落地见效。",
]
PROGRESS_DETAILS = [
    "围绕庆祝中华人民共和国成立75周年，采取知识竞赛、文艺晚会等群众喜闻乐见的形式，组织开展民族团结进步宣传教育活动。",
    "推动民族团结进步教育进机关、进企业、进社区、进乡镇、进学校、进宗教活动场所，引导各族干部群众树立正确的国家观、历史观、民族观、文化观、宗教观。",
    "深化《甘肃省促进民族团结进步条例》学习宣传和贯彻执行，将其纳入党委（党组）理论学习中心组学习内容。",
    "以“民族团结一家亲”和民族团结联谊活动为载体，组织干部职工与各族群众结对认亲，增进各民族交往交流交融。",
    "指导社区完善少数民族服务管理工作平台和网络，打造少数民族便民服务、心灵驿站等特色服务窗口。",
    "充分利用报纸、电视、广播等主流媒体以及政务新媒体，全方位宣传创建工作成效，营造浓厚创建氛围。",
    "成立宣讲团分批分类开展宣讲培训，有针对性地开展党的民族理论政策教育培训。",
    "扎实做好民族团结进步示范单位申报创建工作，积极构建各民族相互嵌入式的社会结构和社区环境。",
]
PROBLEMS = [
    "一是宣传教育的形式还不够丰富，覆盖面有待进一步扩大；二是部门之间协调配合还需加强。",
    "创建工作经费保障不足，基层示范点建设推进较慢。",
    "部分干部职工对创建工作重要性认识不足，参与的主动性有待提高。",
    "佐证资料收集整理不够及时，台账还需进一步规范。",
    "示范点培育标准不够明确，特色亮点不够突出。",
    "",
]
NEXT_STEPS = [
    "下一步，将持续深化宣传教育，推动民族团结进步创建工作向纵深发展。",
    "下一步，将进一步加强与牵头单位的沟通对接，补齐短板弱项，确保按期完成目标任务。",
    "下一步，将充分利用市民讲堂，面向社会大众普及民族政策理论和民族团结进步知识。",
    "下一步，将深入挖掘和宣传民族团结的先进典型事迹，扎实开展“八进”活动。",
    "下一步，将规范资料收集归档，完善工作台账，及时报送工作进展。",
]
RETURN_REASONS = [
    "工作进展过于笼统，请补充具体活动的时间、地点和参与人数。",
    "请补充活动照片等佐证材料。",
    "填报的宣传资料数量与附件不一致，请核实后重新报送。",
    "请对照任务要求说明量化目标的完成情况。",
]

# How much of each common metric a unit plausibly reports in a quarter (low, high).
COMMON_RANGES = {
    "materials": (200, 3000),
    "boards": (5, 60),
    "slogans": (10, 120),
    "lectures": (1, 12),
    "participants": (100, 3000),
    "funding": (1, 30),
    "demo_sites": (0, 2),
}


def progress_text(rng: random.Random, task_title: str, figures: str = "") -> str:
    parts = [rng.choice(PROGRESS_OPENINGS).format(task=task_title)]
    parts += rng.sample(PROGRESS_DETAILS, 2)
    if figures:
        parts.append(f"本季度共{figures}。")
    return "".join(parts)


def metric_values_for(rng: random.Random, *, metrics: list, task_metric_ids: list[int]) -> list:
    """(metric, value) pairs: two or three common publicity metrics plus one of the task's own metrics."""
    by_code = {m.code: m for m in metrics}
    by_id = {m.pk: m for m in metrics}
    picks = []
    for code in rng.sample(sorted(COMMON_RANGES), 3 if rng.random() < 0.5 else 2):
        metric = by_code.get(code)
        if metric is None:
            continue
        low, high = COMMON_RANGES[code]
        picks.append((metric, Decimal(rng.randint(low, high))))
    for metric_id in task_metric_ids[:1]:
        metric = by_id.get(metric_id)
        if metric is None or any(m.pk == metric.pk for m, _ in picks):
            continue
        high = int(metric.typical_max or 10)
        picks.append((metric, Decimal(rng.randint(1, max(1, high // 3)))))
    return picks


def figures_text(picks) -> str:
    return "，".join(f"{metric.name}{value:f}{metric.unit_of_measure}" for metric, value in picks)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour, 0))


def populate_demo_reports(*, campaign, today: dt.date, stdout=None) -> int:
    """Fill every closed or open period up to ``today`` with demo reports; returns how many were added."""
    from django.contrib.auth import get_user_model

    from campaign.models import ReportingPeriod
    from tasks.models import Metric, Responsibility, Target
    from units.models import CampaignRole, Membership

    periods = list(
        ReportingPeriod.objects.filter(campaign=campaign, starts_on__lte=today)
        .exclude(state=ReportingPeriod.State.UPCOMING)
        .order_by("year", "quarter")
    )
    if not periods:
        return 0
    responsibilities = list(
        Responsibility.objects.filter(task__campaign=campaign, unit__is_active=True)
        .exclude(unit__code__startswith="scale-")  # generate_scale_data's units have their own data
        .select_related("task")
        .order_by("unit__order", "task__number")
    )
    existing = set(
        ProgressReport.objects.filter(period__in=periods).values_list("period_id", "unit_id", "task_id")
    )
    metrics = list(Metric.objects.all())
    task_metrics: dict[int, list[int]] = {}
    for task_id, metric_id in Target.objects.filter(task__campaign=campaign).values_list(
        "task_id", "metric_id"
    ):
        task_metrics.setdefault(task_id, []).append(metric_id)
    liaisons = dict(
        Membership.objects.filter(role=Membership.Role.LIAISON, is_active=True).values_list(
            "unit_id", "user_id"
        )
    )
    office_id = (
        CampaignRole.objects.filter(role=CampaignRole.Role.OFFICE).values_list("user_id", flat=True).first()
    )
    User = get_user_model()
    users = {u.pk: u for u in User.objects.filter(pk__in=[*liaisons.values(), office_id])}

    S = ProgressReport.State
    new_reports: list[ProgressReport] = []
    plans: list[tuple] = []  # (report, picks, events)
    for period in periods:
        is_open = period.state == ReportingPeriod.State.OPEN
        for resp in responsibilities:
            key = (period.pk, resp.unit_id, resp.task_id)
            if key in existing:
                continue
            rng = random.Random(f"{period.pk}-{resp.unit_id}-{resp.task_id}")
            roll = rng.random()
            if is_open:
                # The open quarter: some still untouched, some drafts, some already in.
                if roll < 0.55:
                    continue
                state = S.DRAFT if roll < 0.75 else S.SUBMITTED if roll < 0.93 else S.APPROVED
            else:
                if roll < 0.03:
                    continue  # never reported: the dashboards' red cells
                state = (
                    S.APPROVED
                    if roll < 0.86
                    else S.SUBMITTED
                    if roll < 0.92
                    else S.RETURNED
                    if roll < 0.97
                    else S.DRAFT
                )
            liaison = users.get(liaisons.get(resp.unit_id))
            office = users.get(office_id)
            picks = metric_values_for(
                rng, metrics=metrics, task_metric_ids=task_metrics.get(resp.task_id, [])
            )
            status = rng.choices(
                [
                    ProgressReport.ProgressStatus.ON_TRACK,
                    ProgressReport.ProgressStatus.DONE,
                    ProgressReport.ProgressStatus.BEHIND,
                    ProgressReport.ProgressStatus.NOT_STARTED,
                ],
                weights=[70, 15, 10, 5],
            )[0]
            report = ProgressReport(
                period=period,
                unit_id=resp.unit_id,
                task=resp.task,
                progress=progress_text(rng, resp.task.title, figures_text(picks)),
                problems=rng.choice(PROBLEMS),
                next_steps=rng.choice(NEXT_STEPS),
                progress_status=status,
                state=state,
                created_by=liaison,
                updated_by=liaison,
            )
            events: list[tuple] = []
            created = _at(period.ends_on - dt.timedelta(days=rng.randint(3, 20)), 9)
            report.created_at = created
            events.append((ReportEvent.Action.CREATED, liaison, created, "", "", S.DRAFT))
            if state != S.DRAFT:
                late = not is_open and rng.random() < 0.08
                offset = rng.randint(1, 12) if late else -rng.randint(0, 9)
                day = period.due_on + dt.timedelta(days=offset)
                if is_open:
                    day = min(day, today)
                submitted = _at(day, rng.randint(9, 17))
                report.first_submitted_at = report.submitted_at = submitted
                report.submitted_by = liaison
                events.append((ReportEvent.Action.SUBMITTED, liaison, submitted, "", S.DRAFT, S.SUBMITTED))
                reviewed = submitted + dt.timedelta(days=rng.randint(1, 5))
                if state == S.RETURNED:
                    reason = rng.choice(RETURN_REASONS)
                    report.return_reason = reason
                    report.reviewed_at, report.reviewed_by = reviewed, office
                    events.append(
                        (ReportEvent.Action.RETURNED, office, reviewed, reason, S.SUBMITTED, S.RETURNED)
                    )
                elif state == S.APPROVED:
                    report.reviewed_at, report.reviewed_by = reviewed, office
                    events.append(
                        (ReportEvent.Action.APPROVED, office, reviewed, "", S.SUBMITTED, S.APPROVED)
                    )
            new_reports.append(report)
            plans.append((report, picks, events))

    with transaction.atomic():
        ProgressReport.objects.bulk_create(new_reports, batch_size=500)
        # Re-read the ids: not every backend returns them from a bulk insert.
        ids = {
            (period_id, unit_id, task_id): pk
            for period_id, unit_id, task_id, pk in ProgressReport.objects.filter(
                period__in=periods
            ).values_list("period_id", "unit_id", "task_id", "pk")
        }
        values, event_rows = [], []
        for report, picks, events in plans:
            report.pk = ids[(report.period_id, report.unit_id, report.task_id)]
            values += [MetricValue(report_id=report.pk, metric=m, value=v) for m, v in picks]
            for action, actor, at, comment, from_state, to_state in events:
                event_rows.append(
                    ReportEvent(
                        report_id=report.pk,
                        action=action,
                        actor=actor,
                        at=at,
                        comment=comment,
                        from_state=from_state,
                        to_state=to_state,
                        version=1,
                    )
                )
        MetricValue.objects.bulk_create(values, batch_size=1000)
        ReportEvent.objects.bulk_create(event_rows, batch_size=1000)
        # updated_at is auto_now: set it to the last step's date in one statement.
        new_ids = [p[0].pk for p in plans]
        for start in range(0, len(new_ids), 2000):
            ProgressReport.objects.filter(pk__in=new_ids[start : start + 2000]).update(
                updated_at=Coalesce("reviewed_at", "submitted_at", "created_at")
            )
    if stdout is not None and new_reports:
        stdout.write(f"已生成演示报告 {len(new_reports)} 份（含各状态、指标与审核记录）。")
    return len(new_reports)
