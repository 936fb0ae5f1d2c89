from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from units.models import display_name


class Section(models.Model):
    """A chapter of the plan: (一)…(七) the seven 工程, (八) the 八进 activity."""

    campaign = models.ForeignKey(
        "campaign.Campaign", verbose_name=_("创建活动"), on_delete=models.CASCADE, related_name="sections"
    )
    order = models.PositiveSmallIntegerField(_("序号"))
    numeral = models.CharField(_("编号"), max_length=10, help_text=_("如 一、二"))
    title = models.CharField(_("标题"), max_length=200)
    short_title = models.CharField(_("简称"), max_length=40, blank=True, help_text=_("如 “政治引领”工程"))

    class Meta:
        verbose_name = _("工程/活动")
        verbose_name_plural = _("工程/活动")
        ordering = ["campaign", "order"]
        constraints = [models.UniqueConstraint(fields=["campaign", "order"], name="unique_section_order")]

    def __str__(self) -> str:
        return f"（{self.numeral}）{self.short_title or self.title}"


class Task(models.Model):
    campaign = models.ForeignKey(
        "campaign.Campaign", verbose_name=_("创建活动"), on_delete=models.CASCADE, related_name="tasks"
    )
    section = models.ForeignKey(
        Section, verbose_name=_("所属工程"), on_delete=models.PROTECT, related_name="tasks"
    )
    number = models.PositiveSmallIntegerField(_("任务编号"))
    title = models.CharField(_("标题"), max_length=200)
    text = models.TextField(_("任务内容"))
    units = models.ManyToManyField(
        "units.Unit", through="Responsibility", verbose_name=_("责任单位"), related_name="tasks"
    )

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        ordering = ["campaign", "number"]
        constraints = [models.UniqueConstraint(fields=["campaign", "number"], name="unique_task_number")]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class ResponsibilityQuerySet(models.QuerySet):
    """Lead (牵头) vs co-responsible (配合), in queries. The same rule as ``Responsibility.is_lead``."""

    def leads(self) -> ResponsibilityQuerySet:
        return self.filter(Responsibility.lead_q())

    def co(self) -> ResponsibilityQuerySet:
        """Every responsibility that is not the lead: the named 配合 units and the by-rule ones."""
        return self.exclude(Responsibility.lead_q())


class Responsibility(models.Model):
    """A unit's part in a task. The first named unit leads (at most one per task); the rest are co-responsible."""

    class Role(models.TextChoices):
        LEAD = "lead", _("牵头")
        CO = "co", _("配合")

    task = models.ForeignKey(
        Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="responsibilities"
    )
    unit = models.ForeignKey(
        "units.Unit", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="responsibilities"
    )
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices, default=Role.CO)
    order = models.PositiveSmallIntegerField(_("排序"), default=0, help_text=_("在方案中列出的顺序"))
    by_rule = models.BooleanField(
        _("按统一要求"),
        default=False,
        help_text=_("由“以下任务均需各县(市、区)…落实”一类统一要求产生，而非逐条列出"),
    )

    objects = ResponsibilityQuerySet.as_manager()

    class Meta:
        verbose_name = _("责任分工")
        verbose_name_plural = _("责任分工")
        ordering = ["task", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "unit"], name="unique_responsibility"),
            # The database's half of the lead rule; "lead" is Role.LEAD, which Meta cannot see.
            models.UniqueConstraint(
                fields=["task"], condition=models.Q(role="lead"), name="one_lead_per_task"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task.number} · {self.unit} · {self.get_role_display()}"

    @property
    def is_lead(self) -> bool:
        """True for the task's 牵头单位; every other responsibility is 配合."""
        return self.role == self.Role.LEAD

    @classmethod
    def lead_q(cls, prefix: str = "") -> models.Q:
        """The lead rule as a filter; ``prefix`` reaches it across a relation, e.g. ``"responsibilities__"``."""
        return models.Q(**{f"{prefix}role": cls.Role.LEAD})


class Metric(models.Model):
    """Something counted in reports, with its unit of measure and how quarters add up."""

    class Aggregation(models.TextChoices):
        # A flow is what happened in the quarter (宣讲 held, 展板 put up): quarters add up. A stock is a running
        # count at the end of the quarter (专职人员, 命名的示范点): the latest quarter's value is the figure.
        SUM = "sum", _("流量：本季度新增，逐季累加")
        LATEST = "latest", _("存量：截至本季度累计，取最新值")

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    unit_of_measure = models.CharField(_("计量单位"), max_length=10)
    aggregation = models.CharField(
        _("汇总方式"), max_length=10, choices=Aggregation.choices, default=Aggregation.SUM
    )
    is_common = models.BooleanField(_("通用宣传指标"), default=False, help_text=_("每份报告都可填写"))
    typical_max = models.DecimalField(
        _("单季常见上限"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("超过此值的填报会提示审核人员核实，但不会被拒绝"),
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    # 示范点 are places kept in the register (sites/), not numbers typed into reports: these metrics' figures
    # are counted from it (reports/dashboards/selectors/targets.py says how, per level), and report forms do
    # not ask for them.
    REGISTER_CODES = frozenset({"demo_sites", "sites_provincial", "sites_city"})

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.unit_of_measure}）"

    @property
    def is_counted_from_register(self) -> bool:
        return self.code in self.REGISTER_CODES

    @property
    def is_flow(self) -> bool:
        """New this quarter, summed over quarters; otherwise a stock whose latest value counts."""
        return self.aggregation == self.Aggregation.SUM

    def add_up(self, quarters: Iterable[tuple[Any, Decimal]]) -> Decimal:
        """One unit's figures on one task over some quarters, added up as the metric says: a flow is summed,
        a stock is its latest quarter's value. ``quarters`` are (a sortable quarter key, value) pairs.
        Figures of several units are then summed. The dashboards' database query for flows (a SUM per
        window) is the same rule in SQL; tests/reports/test_rules.py holds them equal."""
        quarters = list(quarters)
        if not quarters:
            return Decimal("0")
        if self.is_flow:
            return sum((value for _, value in quarters), Decimal("0"))
        return max(quarters, key=lambda q: q[0])[1]

    @property
    def input_label(self) -> str:
        """What a person types into a report for this metric, in its unit."""
        if self.is_flow:
            return f"本季度新增（{self.unit_of_measure}）"
        return f"截至本季度累计（{self.unit_of_measure}）"

    @property
    def input_help(self) -> str:
        if self.is_flow:
            return "只填本季度新开展的，不含以前季度。"
        return "填截至本季度末的总数，不是本季度新增。"


class Target(models.Model):
    """A measurable promise in a task, e.g. 崆峒区、华亭市打造示范点3个以上."""

    class Comparison(models.TextChoices):
        AT_LEAST = "gte", _("不少于")
        EXACTLY = "eq", _("达到")

    class Scope(models.TextChoices):
        EACH_UNIT = "each_unit", _("列明单位各自")
        CITY = "city", _("市上")
        CITY_DISTRICT = "city_district", _("市区联合")
        EACH_RESPONSIBLE = "each_responsible", _("各责任单位各自")

    class PeriodKind(models.TextChoices):
        BY_DATE = "by_date", _("截至日期")
        PER_YEAR = "per_year", _("每年")
        PER_SEMESTER = "per_semester", _("每学期")

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="targets")
    metric = models.ForeignKey(
        Metric, verbose_name=_("指标"), on_delete=models.PROTECT, related_name="targets"
    )
    value = models.DecimalField(_("目标值"), max_digits=14, decimal_places=2)
    comparison = models.CharField(
        _("比较"), max_length=5, choices=Comparison.choices, default=Comparison.AT_LEAST
    )
    scope = models.CharField(_("范围"), max_length=20, choices=Scope.choices)
    scope_label = models.CharField(
        _("范围说明"), max_length=60, help_text=_("如 崆峒区、华亭市 / 其他县 / 市上")
    )
    units = models.ManyToManyField(
        "units.Unit",
        verbose_name=_("范围内单位"),
        blank=True,
        related_name="targets",
        help_text=_("“列明单位各自”时为各自须达标的单位；“市区联合”时为与市直单位合计的县区"),
    )
    period_kind = models.CharField(_("时限"), max_length=20, choices=PeriodKind.choices)
    due_on = models.DateField(_("截至日期"), null=True, blank=True)
    source_text = models.CharField(_("原文"), max_length=300)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("量化目标")
        verbose_name_plural = _("量化目标")
        ordering = ["task__number", "order", "id"]

    def __str__(self) -> str:
        return f"任务{self.task.number}：{self.scope_label}{self.metric.name}{self.get_comparison_display()}{self.value_display}{self.metric.unit_of_measure}"

    @property
    def value_display(self) -> str:
        return f"{self.value.normalize():f}"

    @property
    def summary(self) -> str:
        """The whole target on one line, as the change history records it when it is added or deleted."""
        text = (
            f"{self.scope_label}：{self.metric.name}{self.get_comparison_display()}{self.value_display}"
            f"{self.metric.unit_of_measure}，{self.period_display}"
        )
        units = "、".join(u.name for u in self.units.order_by("order", "id"))
        if units and units != self.scope_label:
            text += f"（范围内单位：{units}）"
        return text

    @property
    def period_display(self) -> str:
        if self.period_kind == self.PeriodKind.BY_DATE and self.due_on:
            return (
                f"到{self.due_on.year}年底"
                if (self.due_on.month, self.due_on.day) == (12, 31)
                else f"截至{self.due_on:%Y年%-m月%-d日}"
            )
        return self.get_period_kind_display()


class PlanChange(models.Model):
    """One change to a plan made in the portal: who, when, which object and field, before → after.

    Written by ``tasks.services`` in the same transaction as the change; never edited or deleted.
    """

    class Kind(models.TextChoices):
        CAMPAIGN = "campaign", _("创建活动")
        TASK = "task", _("任务")
        RESPONSIBILITY = "responsibility", _("责任单位")
        TARGET = "target", _("量化目标")
        PHASE = "phase", _("实施阶段")
        PERIOD = "period", _("报告期")

    campaign = models.ForeignKey(
        "campaign.Campaign", verbose_name=_("创建活动"), on_delete=models.CASCADE, related_name="plan_changes"
    )
    task = models.ForeignKey(
        Task,
        verbose_name=_("任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="changes",
        help_text=_("改动属于某项任务时（任务本身、其责任单位或量化目标）"),
    )
    at = models.DateTimeField(_("时间"), db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("为空表示由命令行操作"),
    )
    kind = models.CharField(_("对象类别"), max_length=20, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField(_("对象编号"))
    object_label = models.CharField(_("对象"), max_length=200)
    field = models.CharField(_("字段"), max_length=50)
    before = models.TextField(_("修改前"), blank=True)
    after = models.TextField(_("修改后"), blank=True)

    class Meta:
        verbose_name = _("方案修改记录")
        verbose_name_plural = _("方案修改记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.object_label} · {self.field}：{self.before} → {self.after}"

    @property
    def by_name(self) -> str:
        return display_name(self.by) if self.by is not None else "命令行"
