from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import kinds


class Compilation(models.Model):
    """A compiled document built by a background job; its progress lives here, not in Celery.

    ``run_token`` is the current run's ticket: a job writes progress and the result only while the row
    still carries its token, so a superseded run (a message re-delivered after a worker died) can never
    overwrite the newer one. ``attempts`` counts runs since the last request or retry.
    """

    Kind = kinds.BuiltInKind

    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        XLSX = "xlsx", "Excel"
        DOCX = "docx", "Word"
        ZIP = "zip", _("ZIP 压缩包")

    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    FINISHED_STATES = {State.DONE, State.FAILED}
    EXTENSIONS = {"pdf": "pdf", "xlsx": "xlsx", "docx": "docx", "zip": "zip"}
    CONTENT_TYPES = {
        "pdf": "application/pdf",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "zip": "application/zip",
    }
    # The formats of the built-in kinds; a registered kind (``kinds.py``) lists its own.
    BUILT_IN_FORMATS = ("pdf", "xlsx", "docx")

    # Built-in kinds and the ones other apps register (``kinds.py``), e.g. the 申报 dossier.
    kind = models.CharField(_("类型"), max_length=20, choices=kinds.kind_choices)
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
    # What a registered kind covers (the dossier's indicator system), by id: ``reports`` knows no model of the
    # app that registered it. Part of the identity of a request, like period, unit and task.
    subject_id = models.PositiveBigIntegerField(_("范围对象编号"), null=True, blank=True, db_index=True)
    # The units' reports in full, as an appendix after the summary (quarterly, unit and task documents):
    # part of what the document is, so two requests that differ only here are two documents.
    with_appendix = models.BooleanField(
        _("附录：各单位报告全文"),
        default=False,
        help_text=_("在汇总之后附上各单位报告全文；不选则只有汇总（篇幅短，便于呈报领导）"),
    )
    # A digest of the data the file was built from, for kinds that can tell (the dossier): a page can then say
    # when the data changed after the file was made.
    source_digest = models.CharField(_("数据摘要"), max_length=64, blank=True, editable=False)
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
        db_table = "reports_compilation"  # the table it had before moving out of ``reports``
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

    def get_kind_display(self) -> str:
        return kinds.kind_labels().get(self.kind, self.kind)

    @property
    def extra_kind(self) -> kinds.ExtraKind | None:
        """The registered kind (``kinds.py``) this compilation is of, or None for a built-in kind."""
        return kinds.get(self.kind)

    @property
    def scope_label(self) -> str:
        """What the document covers, in words: 2024年第三季度 / 市委宣传部 · 2024年第三季度 / 2024年度; for a
        registered kind its subject's label (《…》指标体系), read once or given by ``kinds.subject_labels``."""
        extra = self.extra_kind
        if extra is not None:
            if not hasattr(self, "_subject_label"):
                self._subject_label = (
                    extra.labels({self.subject_id}).get(self.subject_id, "") if self.subject_id else ""
                )
            return self._subject_label or f"{extra.scope_label}（已删除）"
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
