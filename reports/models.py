from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ProgressReport(models.Model):
    """One unit's report on one task for one period."""

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已报送")
        RETURNED = "returned", _("已退回")
        APPROVED = "approved", _("已通过")

    class ProgressStatus(models.TextChoices):
        NOT_STARTED = "not_started", _("未启动")
        ON_TRACK = "on_track", _("按计划推进")
        BEHIND = "behind", _("滞后")
        DONE = "done", _("已完成")

    # Which steps are allowed from which state; services consult this, pages use it to show buttons.
    TRANSITIONS = {
        "submit": {State.DRAFT, State.RETURNED},
        "return": {State.SUBMITTED},
        "approve": {State.SUBMITTED},
    }
    EDITABLE_STATES = {State.DRAFT, State.RETURNED}

    period = models.ForeignKey(
        "campaign.ReportingPeriod", verbose_name=_("报告期"), on_delete=models.PROTECT, related_name="reports"
    )
    unit = models.ForeignKey(
        "units.Unit", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="reports"
    )
    task = models.ForeignKey(
        "tasks.Task", verbose_name=_("任务"), on_delete=models.PROTECT, related_name="reports"
    )
    progress = models.TextField(_("工作进展"), blank=True)
    problems = models.TextField(_("存在问题"), blank=True)
    next_steps = models.TextField(_("下一步计划"), blank=True)
    progress_status = models.CharField(
        _("推进情况"), max_length=20, choices=ProgressStatus.choices, default=ProgressStatus.ON_TRACK
    )
    state = models.CharField(
        _("状态"), max_length=20, choices=State.choices, default=State.DRAFT, db_index=True
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    return_reason = models.TextField(_("退回原因"), blank=True)

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
    first_submitted_at = models.DateTimeField(_("首次报送时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
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
    def is_locked(self) -> bool:
        return self.state == self.State.APPROVED

    @property
    def is_late(self) -> bool:
        """First submitted after the end of the period's due day (local time)."""
        if self.first_submitted_at is None:
            return False
        return timezone.localdate(self.first_submitted_at) > self.period.due_on

    @property
    def is_reported(self) -> bool:
        return self.state in (self.State.SUBMITTED, self.State.APPROVED)

    def can(self, step: str) -> bool:
        return self.state in self.TRANSITIONS[step]


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
    report = instance.report
    return f"evidence/{report.period_id}/{report.unit_id}/{instance.sha256[:16]}-{filename}"


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
    reason = models.TextField(_("原因"))
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

    def is_active(self, today) -> bool:
        return self.revoked_at is None and (self.until is None or self.until >= today)


class Compilation(models.Model):
    """A compiled document built by a background job; its progress lives here, not in Celery.

    ``run_token`` is the current run's ticket: a job writes progress and the result only while the row
    still carries its token, so a superseded run (a message re-delivered after a worker died) can never
    overwrite the newer one. ``attempts`` counts runs since the last request or retry.
    """

    class Kind(models.TextChoices):
        QUARTERLY = "quarterly", _("季度汇总")
        UNIT = "unit", _("单位报告")
        TASK = "task", _("任务报告")
        ANNUAL = "annual", _("年度工作总结")
        LEDGER = "ledger", _("台账")

    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        XLSX = "xlsx", "Excel"
        DOCX = "docx", "Word"

    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    FINISHED_STATES = {State.DONE, State.FAILED}
    EXTENSIONS = {"pdf": "pdf", "xlsx": "xlsx", "docx": "docx"}
    CONTENT_TYPES = {
        "pdf": "application/pdf",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    format = models.CharField(_("格式"), max_length=10, choices=Format.choices)
    campaign = models.ForeignKey(
        "campaign.Campaign",
        verbose_name=_("创建活动"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="compilations",
    )
    period = models.ForeignKey(
        "campaign.ReportingPeriod",
        verbose_name=_("报告期"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="compilations",
    )
    year = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    unit = models.ForeignKey(
        "units.Unit",
        verbose_name=_("单位"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="compilations",
    )
    task = models.ForeignKey(
        "tasks.Task",
        verbose_name=_("任务"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="compilations",
    )
    state = models.CharField(
        _("状态"), max_length=20, choices=State.choices, default=State.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    stage = models.CharField(_("阶段"), max_length=100, blank=True)
    file = models.FileField(_("文件"), upload_to="compilations/%Y/%m/", max_length=300, blank=True)
    size = models.PositiveBigIntegerField(_("文件大小（字节）"), default=0)
    error = models.TextField(_("错误信息"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    run_token = models.UUIDField(_("运行标识"), null=True, blank=True, editable=False)
    automatic = models.BooleanField(
        _("自动生成"), default=False, help_text=_("报告期截止后由定时任务自动生成")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="compilations",
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    purged_at = models.DateTimeField(
        _("文件清理时间"), null=True, blank=True, help_text=_("超过保存期限后文件被删除的时间")
    )

    class Meta:
        verbose_name = _("汇编")
        verbose_name_plural = _("汇编")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="compilation_progress_max_100"
            ),
            # One automatic summary per closed period and format: the beat job may run twice at once.
            models.UniqueConstraint(
                fields=["period", "kind", "format"],
                condition=models.Q(automatic=True),
                name="unique_automatic_compilation",
            ),
        ]
        indexes = [models.Index(fields=["state", "started_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.get_format_display()}）#{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED_STATES

    @property
    def is_done(self) -> bool:
        return self.state == self.State.DONE

    @property
    def is_failed(self) -> bool:
        return self.state == self.State.FAILED

    @property
    def has_file(self) -> bool:
        return self.is_done and bool(self.file) and self.purged_at is None

    @property
    def content_type(self) -> str:
        return self.CONTENT_TYPES[self.format]

    @property
    def duration_label(self) -> str:
        """How long the build took: 12秒 / 3分5秒."""
        if not (self.started_at and self.finished_at):
            return ""
        seconds = max(0, round((self.finished_at - self.started_at).total_seconds()))
        minutes, seconds = divmod(seconds, 60)
        return f"{minutes}分{seconds}秒" if minutes else f"{seconds}秒"

    @property
    def scope_label(self) -> str:
        """What the document covers, in words: 2024年第三季度 / 市委宣传部 · 2024年第三季度 / 2024年度."""
        parts = []
        if self.unit_id:
            parts.append(self.unit.name)
        if self.task_id:
            parts.append(f"任务{self.task.number}")
        if self.period_id:
            parts.append(self.period.label)
        if self.year:
            parts.append(f"{self.year}年度")
        if not parts:
            parts.append("全部报告期")
        return " · ".join(parts)

    @property
    def title(self) -> str:
        return f"{self.scope_label} {self.get_kind_display()}"

    @property
    def download_name(self) -> str:
        return f"{self.title.replace(' · ', '-').replace(' ', '-')}.{self.EXTENSIONS[self.format]}"
