from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .dates import QUARTER_NAMES, quarter_bounds


class Campaign(models.Model):
    title = models.CharField(_("名称"), max_length=200)
    city = models.CharField(_("城市"), max_length=50)
    document_title = models.CharField(_("实施方案标题"), max_length=200, blank=True)
    issued_on = models.DateField(_("印发日期"), null=True, blank=True)
    goal = models.TextField(_("总体要求"), blank=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    office_unit = models.ForeignKey(
        "units.Unit",
        verbose_name=_("牵头协调单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_active = models.BooleanField(_("当前活动"), default=True)
    # Set when another campaign was made current in its place: from then on its plan is read-only, while its
    # reports and compilations stay readable. A campaign never active and not archived is a new import.
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)
    # The issuer, named once for every output (PDF, Word, Excel, 通报): left blank, the usual name is used.
    issuer = models.CharField(
        _("发文机关"),
        max_length=100,
        blank=True,
        help_text=_(
            "文件署名与版头的机关全称，留空则为“{城市}创建全国民族团结进步示范市工作领导小组办公室”。"
        ),
    )
    printed_by = models.CharField(
        _("印发机关"), max_length=100, blank=True, help_text=_("版记中的印发机关，留空则同发文机关。")
    )
    main_recipients = models.CharField(
        _("主送机关"),
        max_length=300,
        blank=True,
        help_text=_("通报等文件的主送机关，如“各县（市、区）创建办，市直各有关单位”。"),
    )
    copy_to = models.CharField(
        _("抄送"), max_length=300, blank=True, help_text=_("版记中的抄送机关，可留空。")
    )

    class Meta:
        verbose_name = _("创建活动")
        verbose_name_plural = _("创建活动")
        ordering = ["-is_active", "-starts_on"]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def current(cls) -> Campaign | None:
        return cls.objects.filter(is_active=True).order_by("-starts_on").first()

    @property
    def issuer_name(self) -> str:
        """发文机关: the one name every output signs with."""
        return self.issuer or f"{self.city}创建全国民族团结进步示范市工作领导小组办公室"

    @property
    def printed_by_name(self) -> str:
        """印发机关 in a 版记."""
        return self.printed_by or self.issuer_name

    @property
    def main_recipients_text(self) -> str:
        """主送机关 of a 通报."""
        return self.main_recipients or "各县（市、区）创建办，市直各有关单位"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def status_label(self) -> str:
        """当前活动 / 已归档 / 待启用: what the plans page says about the campaign."""
        if self.is_active:
            return "当前活动"
        return "已归档" if self.is_archived else "待启用"


class Phase(models.Model):
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("创建活动"), on_delete=models.CASCADE, related_name="phases"
    )
    order = models.PositiveSmallIntegerField(_("序号"))
    name = models.CharField(_("名称"), max_length=50)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    description = models.TextField(_("工作内容"), blank=True)

    class Meta:
        verbose_name = _("实施阶段")
        verbose_name_plural = _("实施阶段")
        ordering = ["campaign", "order"]
        constraints = [models.UniqueConstraint(fields=["campaign", "order"], name="unique_phase_order")]

    def __str__(self) -> str:
        return self.name

    def contains(self, day: dt.date) -> bool:
        return self.starts_on <= day <= self.ends_on


class PeriodQuerySet(models.QuerySet):
    def as_of(self, day: dt.date) -> PeriodQuerySet:
        """The periods a figure "as of ``day``" covers: those that have begun by then. A live page passes
        today; a page or document about period P passes ``P.as_of`` (its last day), so P is the latest."""
        return self.filter(starts_on__lte=day)


class ReportingPeriod(models.Model):
    """A quarter in which units report. The office closes it; a closed period is locked except for reopenings."""

    class State(models.TextChoices):
        UPCOMING = "upcoming", _("未开始")
        OPEN = "open", _("报送中")
        CLOSED = "closed", _("已截止")

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("创建活动"), on_delete=models.CASCADE, related_name="periods"
    )
    year = models.PositiveSmallIntegerField(_("年份"))
    quarter = models.PositiveSmallIntegerField(
        _("季度"), choices=[(q, QUARTER_NAMES[q]) for q in (1, 2, 3, 4)]
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    due_on = models.DateField(_("报送截止日期"))
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.UPCOMING)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    objects = PeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("报告期")
        verbose_name_plural = _("报告期")
        ordering = ["campaign", "year", "quarter"]
        constraints = [models.UniqueConstraint(fields=["campaign", "year", "quarter"], name="unique_period")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.year}年{QUARTER_NAMES[self.quarter]}"

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    @property
    def is_closed(self) -> bool:
        return self.state == self.State.CLOSED

    def days_to_due(self, today: dt.date | None = None) -> int:
        return (self.due_on - (today or timezone.localdate())).days

    def is_past_due(self, day: dt.date) -> bool:
        """``day`` is after the due date: a report not in by then is overdue (the due day itself is not)."""
        return day > self.due_on

    @property
    def on_time_cutoff(self) -> dt.datetime:
        """The first instant that is late: local midnight after the due date. A report is on time when it
        was first submitted before this (``ProgressReport.is_on_time``), i.e. up to 23:59:59 of ``due_on``."""
        return timezone.make_aware(dt.datetime.combine(self.due_on + dt.timedelta(days=1), dt.time.min))

    @property
    def as_of(self) -> dt.date:
        """The moment a figure "as of this period" is taken at: the period's last day. Pages and documents
        about the period show nothing from a later period (``ReportingPeriod.objects.as_of``)."""
        return self.ends_on

    @classmethod
    def bounds_for(cls, year: int, quarter: int) -> tuple[dt.date, dt.date, dt.date]:
        starts, ends = quarter_bounds(year, quarter)
        return starts, ends, ends + dt.timedelta(days=settings.PERIOD_DUE_DAYS_AFTER_END)

    @classmethod
    def current_open(cls, campaign: Campaign | None = None):
        """The open period users should be reporting in now: the latest open one."""
        qs = cls.objects.filter(state=cls.State.OPEN)
        if campaign is not None:
            qs = qs.filter(campaign=campaign)
        return qs.order_by("-year", "-quarter").first()
