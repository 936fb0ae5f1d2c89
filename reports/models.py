from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaign.lights import DUE_SOON_DAYS, GREEN, GREY, RED, YELLOW


class ReportQuerySet(models.QuerySet):
    def reported(self) -> ReportQuerySet:
        """Reports that count as reported (``ProgressReport.REPORTED_STATES``)."""
        return self.filter(state__in=ProgressReport.REPORTED_STATES)

    def on_time(self) -> ReportQuerySet:
        """Reported, and first submitted by the end of the period's due day (``ProgressReport.ON_TIME``)."""
        return self.filter(ProgressReport.ON_TIME)


class ProgressReport(models.Model):
    """One unit's report on one task for one period."""

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        AWAITING_SIGNOFF = "awaiting_signoff", _("待分管领导审核")
        SUBMITTED = "submitted", _("已报送")
        RETURNED = "returned", _("已退回")
        APPROVED = "approved", _("已通过")

    class ProgressStatus(models.TextChoices):
        NOT_STARTED = "not_started", _("未启动")
        ON_TRACK = "on_track", _("按计划推进")
        BEHIND = "behind", _("滞后")
        DONE = "done", _("已完成")

    # Which steps are allowed from which state. ``reports.services`` refuses a step that ``can`` denies;
    # pages use the same ``can`` to show buttons.
    # A unit that requires its leader's sign-off (``Unit.requires_signoff``) has its submit go to
    # awaiting_signoff (``state_after_submit``); the leader's ``signoff`` hands it to the office, the leader's
    # ``signoff_return`` sends it back to the liaison.
    TRANSITIONS = {
        "submit": {State.DRAFT, State.RETURNED},
        "signoff": {State.AWAITING_SIGNOFF},
        "signoff_return": {State.AWAITING_SIGNOFF},
        "return": {State.SUBMITTED},
        "approve": {State.SUBMITTED},
        "edit": {State.DRAFT, State.RETURNED},
    }
    EDITABLE_STATES = TRANSITIONS["edit"]
    # What counts as reported: in the office's hands. A returned report counts again once resubmitted; a report
    # waiting for the unit leader's sign-off has not reached the office and does not count yet.
    REPORTED_STATES = frozenset({State.SUBMITTED, State.APPROVED})
    # Written but not yet at the office: a draft, or waiting for the unit leader's sign-off.
    UNSENT_STATES = frozenset({State.DRAFT, State.AWAITING_SIGNOFF})
    # On time, as a query condition: reported, first submitted on or before the due date (local time).
    # "Submitted" means reached the office: ``first_submitted_at`` is set at the leader's sign-off when the unit
    # requires one, at the liaison's submit otherwise (the liaison's sending is ``sent_for_signoff_at``).
    # The same rule for one row is ``counts_on_time``; tests/reports/test_rules.py holds them equal.
    ON_TIME = Q(state__in=REPORTED_STATES, first_submitted_at__date__lte=F("period__due_on"))
    # How long a text a person may type. A long quarterly report is about 5,000 characters per box; four times
    # that is room for anyone, while a megabyte of pasted text would stall the documents compiled from it.
    # ``reports.services`` refuses longer text with ``text_too_long``, and the forms say the same.
    TEXT_MAX_LENGTH = 20_000
    # Reasons and comments (a return reason, an approval note, why a period is reopened): a few sentences.
    REMARK_MAX_LENGTH = 2_000

    period = models.ForeignKey(
        "campaign.ReportingPeriod", verbose_name=_("报告期"), on_delete=models.PROTECT, related_name="reports"
    )
    unit = models.ForeignKey(
        "units.Unit", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="reports"
    )
    task = models.ForeignKey(
        "tasks.Task", verbose_name=_("任务"), on_delete=models.PROTECT, related_name="reports"
    )
    progress = models.TextField(_("工作进展"), blank=True, max_length=TEXT_MAX_LENGTH)
    problems = models.TextField(_("存在问题"), blank=True, max_length=TEXT_MAX_LENGTH)
    next_steps = models.TextField(_("下一步计划"), blank=True, max_length=TEXT_MAX_LENGTH)
    progress_status = models.CharField(
        _("推进情况"), max_length=20, choices=ProgressStatus.choices, default=ProgressStatus.ON_TRACK
    )
    state = models.CharField(
        _("状态"), max_length=20, choices=State.choices, default=State.DRAFT, db_index=True
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    return_reason = models.TextField(_("退回原因"), blank=True, max_length=REMARK_MAX_LENGTH)

    # A default rather than auto_now_add, so demo and imported reports can carry their real dates.
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Reached the office (after the leader's sign-off where the unit requires one): what "on time" reads.
    first_submitted_at = models.DateTimeField(_("首次报送时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    sent_for_signoff_at = models.DateTimeField(_("送分管领导审核时间"), null=True, blank=True)
    signed_off_at = models.DateTimeField(_("分管领导审核时间"), null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("分管领导"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("进展报告")
        verbose_name_plural = _("进展报告")
        ordering = ["period", "unit__order", "task__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "unit", "task"], name="unique_report_per_period_unit_task"
            )
        ]
        indexes = [
            models.Index(fields=["period", "state"]),
            models.Index(fields=["unit", "period"]),
            models.Index(fields=["state", "submitted_at"]),
            # Covering indexes for the campaign-wide dashboards (completeness, targets, trends): they read
            # most of the table, and on PostgreSQL these let them do so from the index alone.
            models.Index(
                fields=["period", "state"],
                include=["first_submitted_at", "unit", "task"],
                name="report_period_state_cover",
            ),
            models.Index(
                fields=["state", "task"], include=["unit", "period"], name="report_state_task_cover"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} · {self.unit} · 任务{self.task.number}"

    @property
    def is_editable(self) -> bool:
        return self.state in self.EDITABLE_STATES

    @property
    def is_late(self) -> bool:
        """First submitted after the end of the period's due day (local time)."""
        return self.first_submitted_at is not None and self.first_submitted_at >= self.period.on_time_cutoff

    @property
    def is_reported(self) -> bool:
        return self.state in self.REPORTED_STATES

    @property
    def is_on_time(self) -> bool:
        return self.counts_on_time(self.state, self.first_submitted_at, self.period)

    @classmethod
    def counts_on_time(cls, state: str, first_submitted_at: dt.datetime | None, period) -> bool:
        """On time, for one row read as plain values: reported, and first submitted before the period's
        ``on_time_cutoff``. ``ON_TIME`` is the same rule as a query condition."""
        return (
            state in cls.REPORTED_STATES
            and first_submitted_at is not None
            and first_submitted_at < period.on_time_cutoff
        )

    def can(self, step: str) -> bool:
        return self.state in self.TRANSITIONS[step]

    @property
    def is_awaiting_signoff(self) -> bool:
        return self.state == self.State.AWAITING_SIGNOFF

    @property
    def returned_by_leader(self) -> bool:
        """Returned by the unit's 分管领导 (its last decision is later than the office's), not by the office."""
        return (
            self.state == self.State.RETURNED
            and self.signed_off_at is not None
            and (self.reviewed_at is None or self.signed_off_at > self.reviewed_at)
        )

    @property
    def returned_at(self) -> dt.datetime | None:
        """When a returned report was returned, by whoever returned it."""
        if self.state != self.State.RETURNED:
            return None
        return self.signed_off_at if self.returned_by_leader else self.reviewed_at

    @property
    def returned_by(self):
        if self.state != self.State.RETURNED:
            return None
        return self.signed_off_by if self.returned_by_leader else self.reviewed_by

    @classmethod
    def state_after_submit(cls, unit) -> str:
        """Where a liaison's submit takes a report: to the unit leader when the unit requires sign-off, else
        straight to the office."""
        return cls.State.AWAITING_SIGNOFF if unit.requires_signoff else cls.State.SUBMITTED

    @staticmethod
    def text_too_long(label: str, limit: int, length: int | str) -> str:
        """The one wording for a text over its limit, for the services and the forms alike."""
        return f"{label}不能超过{limit}字（当前{length}字），请精简后再保存。"

    @classmethod
    def light_for(cls, report: ProgressReport | None, period, today: dt.date) -> tuple[str, str]:
        """The light of one unit × task × period on ``today``, and its words.

        Decided: the report's light says whether the unit has done its reporting, not how the work goes.
        A submitted or approved report is green even when its own status is 滞后 ("behind"); being behind
        a target's pace is the target's light (``reports.dashboards.selectors.targets.light_for``), and the
        report's progress status is shown beside the light in words. Red: returned and not resubmitted, or
        not reported after the due date. Yellow: not reported and due within ``DUE_SOON_DAYS``. Grey: not
        reported and not due yet. A report waiting for the unit leader's sign-off has not reached the office:
        its colour is that of a report not reported, its words say where it waits."""
        state = report.state if report is not None else None
        if state == cls.State.APPROVED:
            return GREEN, "已通过"
        if state == cls.State.SUBMITTED:
            return GREEN, "已报送"
        if state == cls.State.RETURNED:
            return RED, "退回未重报"
        waiting = "待分管领导审核" if state == cls.State.AWAITING_SIGNOFF else ""
        if period.is_past_due(today):
            return RED, f"逾期未报（{waiting}）" if waiting else "逾期未报"
        if period.days_to_due(today) <= DUE_SOON_DAYS:
            return YELLOW, f"即将截止（{waiting}）" if waiting else "即将截止"
        return GREY, waiting or ("草稿" if report is not None else "未填写")


class MetricValue(models.Model):
    report = models.ForeignKey(
        ProgressReport, verbose_name=_("报告"), on_delete=models.CASCADE, related_name="metric_values"
    )
    metric = models.ForeignKey(
        "tasks.Metric", verbose_name=_("指标"), on_delete=models.PROTECT, related_name="values"
    )
    value = models.DecimalField(_("数值"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("指标填报")
        verbose_name_plural = _("指标填报")
        constraints = [
            models.UniqueConstraint(fields=["report", "metric"], name="unique_metric_value"),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="metric_value_not_negative"),
        ]
        indexes = [
            models.Index(fields=["metric"], include=["report", "value"], name="metricvalue_metric_cover")
        ]

    def __str__(self) -> str:
        return f"{self.metric.name} {self.value}"

    @property
    def is_unusual(self) -> bool:
        """Far above what a unit usually reports in a quarter: shown to the reviewer, never refused."""
        limit = self.metric.typical_max
        return limit is not None and self.value > limit


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    """``filename`` is ``evidence.stored_name``'s short generated one; the person's name is ``original_name``
    (a long Chinese file name is 3 bytes a character, past the file system's 255-byte limit)."""
    report = instance.report
    return f"evidence/{report.period_id}/{report.unit_id}/{filename}"


class Evidence(models.Model):
    class Kind(models.TextChoices):
        FILE = "file", _("文件")
        LINK = "link", _("链接")

    report = models.ForeignKey(
        ProgressReport, verbose_name=_("报告"), on_delete=models.CASCADE, related_name="evidence"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.FILE)
    file = models.FileField(_("文件"), upload_to=evidence_upload_to, max_length=300, blank=True)
    thumbnail = models.FileField(_("缩略图"), upload_to="evidence/thumbs/", max_length=300, blank=True)
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    content_type = models.CharField(_("文件类型"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    sha256 = models.CharField(_("校验值"), max_length=64, blank=True)
    url = models.URLField(_("链接地址"), max_length=500, blank=True)
    caption = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.caption or self.original_name or self.url

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def download_name(self) -> str:
        """The person's file name with the extension of what the file really is (``evidence.download_name``)."""
        from .evidence import download_name

        return download_name(self.original_name, self.file.name)

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"

    @property
    def is_link(self) -> bool:
        return self.kind == self.Kind.LINK


class ReportEvent(models.Model):
    """The report's history. Rows are only ever added."""

    class Action(models.TextChoices):
        CREATED = "created", _("创建")
        SAVED = "saved", _("保存草稿")
        SUBMITTED = "submitted", _("报送")
        SENT_FOR_SIGNOFF = "sent_for_signoff", _("报送分管领导审核")
        SIGNED_OFF = "signed_off", _("分管领导审核通过")
        SIGNOFF_RETURNED = "signoff_returned", _("分管领导退回")
        RETURNED = "returned", _("退回")
        APPROVED = "approved", _("审核通过")
        EVIDENCE_ADDED = "evidence_added", _("添加佐证材料")
        EVIDENCE_REMOVED = "evidence_removed", _("删除佐证材料")
        REOPENED = "reopened", _("开放补报")

    report = models.ForeignKey(
        ProgressReport, verbose_name=_("报告"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now, editable=False, db_index=True)
    comment = models.TextField(_("说明"), blank=True)
    from_state = models.CharField(_("原状态"), max_length=20, blank=True)
    to_state = models.CharField(_("新状态"), max_length=20, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=0)

    class Meta:
        verbose_name = _("报告记录")
        verbose_name_plural = _("报告记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.report_id} {self.get_action_display()}"


class PeriodReopening(models.Model):
    """The office lets one unit change its reports in a closed period (a lock exception)."""

    period = models.ForeignKey(
        "campaign.ReportingPeriod",
        verbose_name=_("报告期"),
        on_delete=models.CASCADE,
        related_name="reopenings",
    )
    unit = models.ForeignKey(
        "units.Unit", verbose_name=_("单位"), on_delete=models.CASCADE, related_name="reopenings"
    )
    reason = models.TextField(_("原因"), max_length=ProgressReport.REMARK_MAX_LENGTH)
    until = models.DateField(_("开放至"), null=True, blank=True, help_text=_("留空表示直到办公室撤销"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("开放人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("开放时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("补报开放")
        verbose_name_plural = _("补报开放")
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.period} · {self.unit}"

    @classmethod
    def active_q(cls, today) -> models.Q:
        """Reopenings in force on ``today``: not revoked, and not past their end date."""
        return models.Q(revoked_at__isnull=True) & (models.Q(until__isnull=True) | models.Q(until__gte=today))


# ---------------------------------------------------------------------------------------------------------
# The read model for figures (issue 15). Derived rows only: ``reports.figures`` writes them, in the same
# transaction as the service that moves a report, and ``manage.py rebuild_figures`` rebuilds them from the
# reports. They store what the report rules compute (``REPORTED_STATES``, ``UNSENT_STATES``, ``ON_TIME``,
# approved values); the dashboards' selectors read them instead of scanning ~100,000 reports per page.
# No database foreign keys (``db_constraint=False``): checking four of them per row made a rebuild of
# 180,000 values take 10 s more; deleting a unit or period still deletes its rows (Django's cascade).


class FigureCount(models.Model):
    """One unit's reports in one period, counted as ``reports.dashboards.selectors.Tally`` counts them: only
    reports on tasks the unit carries (a ``Responsibility``), by state, and those reported on time."""

    period = models.ForeignKey(
        "campaign.ReportingPeriod",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    submitted = models.PositiveIntegerField(default=0)
    approved = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    draft = models.PositiveIntegerField(default=0)  # ``UNSENT_STATES``: a draft or awaiting sign-off
    on_time = models.PositiveIntegerField(default=0)  # ``ProgressReport.ON_TIME``

    class Meta:
        verbose_name = _("报送计数（看板读模型）")
        verbose_name_plural = _("报送计数（看板读模型）")
        constraints = [models.UniqueConstraint(fields=["period", "unit"], name="unique_figure_count")]

    def __str__(self) -> str:
        return f"{self.period_id} · {self.unit_id}"


class FigureTotal(models.Model):
    """An approved report's figure for one metric, keyed by what targets and trends add up over: period,
    unit, task, metric. Only APPROVED reports (what target figures and metric trends count); how a metric
    adds up over periods (``Metric.add_up``) stays in the selectors."""

    period = models.ForeignKey(
        "campaign.ReportingPeriod",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    task = models.ForeignKey(
        "tasks.Task", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    metric = models.ForeignKey(
        "tasks.Metric", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    value = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("指标合计（看板读模型）")
        verbose_name_plural = _("指标合计（看板读模型）")
        constraints = [
            models.UniqueConstraint(fields=["period", "unit", "task", "metric"], name="unique_figure_total")
        ]
        indexes = [
            # targets: the values of a few (task, metric) pairs, per unit and period, from the index alone
            models.Index(
                fields=["task", "metric"], include=["unit", "period", "value"], name="figuretotal_pair_cover"
            ),
            # trends: a metric's totals per period
            models.Index(
                fields=["metric", "period"], include=["unit", "value"], name="figuretotal_trend_cover"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period_id} · {self.unit_id} · {self.task_id} · {self.metric_id}: {self.value}"


class FigureKindTotal(models.Model):
    """``FigureTotal`` added up per period, unit kind and metric, for the quarter-by-quarter trends (a few
    hundred rows where ``FigureTotal`` has ~180,000 at province scale). Kept by adding each change of
    ``FigureTotal`` under the unit's kind of the moment: the sum over kinds always equals ``FigureTotal``'s;
    after a unit changes kind (in the admin) its earlier figures stay under the old kind until
    ``manage.py rebuild_figures``."""

    period = models.ForeignKey(
        "campaign.ReportingPeriod",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(max_length=20)
    metric = models.ForeignKey(
        "tasks.Metric", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    value = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("指标分类合计（看板读模型）")
        verbose_name_plural = _("指标分类合计（看板读模型）")
        constraints = [
            models.UniqueConstraint(fields=["period", "kind", "metric"], name="unique_figure_kind_total")
        ]

    def __str__(self) -> str:
        return f"{self.period_id} · {self.kind} · {self.metric_id}: {self.value}"
