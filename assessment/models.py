"""测评 and 申报: an indicator system (一级 / 二级 / 三级 指标 with points per leaf), each leaf linked to the plan's
tasks, the office's account, evidence picks and score per leaf, and time-limited read-only access for a
third-party evaluator (检查组 / 第三方评估).

Points live on leaves only; a branch's points are the sum of its leaves (``selectors.branch_points``), never
stored, so the tree always adds up. A system's total is the sum of its leaves.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IndicatorSystem(models.Model):
    class Scope(models.TextChoices):
        NATIONAL = "national", _("国家")
        PROVINCIAL = "provincial", _("省级")
        CITY = "city", _("市级")

    campaign = models.ForeignKey(
        "campaign.Campaign",
        verbose_name=_("创建活动"),
        on_delete=models.CASCADE,
        related_name="indicator_systems",
    )
    name = models.CharField(_("名称"), max_length=200)
    scope = models.CharField(_("层级"), max_length=20, choices=Scope.choices, default=Scope.NATIONAL)
    description = models.TextField(_("说明"), blank=True)
    source = models.CharField(
        _("依据文件"),
        max_length=300,
        blank=True,
        help_text=_("如：国家民委《全国民族团结进步示范测评指标体系（试行）》"),
    )
    is_example = models.BooleanField(
        _("示例"), default=False, help_text=_("据公开资料整理的示例，须以正式文件替换")
    )
    pass_score = models.DecimalField(
        _("申报分数线"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("90"),
        validators=[MinValueValidator(0)],
    )
    full_score = models.DecimalField(
        _("满分"), max_digits=6, decimal_places=2, default=Decimal("100"), validators=[MinValueValidator(0)]
    )
    is_active = models.BooleanField(_("使用中"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("指标体系")
        verbose_name_plural = _("指标体系")
        ordering = ["-is_active", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Indicator(models.Model):
    """One node of the tree. ``level`` 1 / 2 / 3 is the depth (一级 / 二级 / 三级); ``points`` is set on leaves
    (a node without children) and ignored on branches."""

    MAX_LEVEL = 3

    system = models.ForeignKey(
        IndicatorSystem, verbose_name=_("指标体系"), on_delete=models.CASCADE, related_name="indicators"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级指标"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    code = models.CharField(_("序号"), max_length=20, help_text=_("如 1、1.2、1.2.3"))
    title = models.CharField(_("指标"), max_length=300)
    level = models.PositiveSmallIntegerField(_("层级"), default=1)
    points = models.DecimalField(
        _("分值"), max_digits=6, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    scoring_rule = models.TextField(_("评分标准"), blank=True)
    evidence_expected = models.TextField(_("佐证材料要求"), blank=True)
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("测评指标")
        verbose_name_plural = _("测评指标")
        ordering = ["system", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["system", "code"], name="indicator_code_unique_in_system"),
            models.CheckConstraint(condition=models.Q(points__gte=0), name="indicator_points_not_negative"),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=3), name="indicator_level_1_to_3"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class IndicatorLink(models.Model):
    """A leaf drawn on a task of the plan (optionally one of its metrics). Suggested links come from the words
    the two share (``mapping.suggest_links``); the office confirms or rejects them. Only confirmed links feed the
    evidence, the hint and the dossier."""

    class State(models.TextChoices):
        SUGGESTED = "suggested", _("建议")
        CONFIRMED = "confirmed", _("已确认")
        REJECTED = "rejected", _("已排除")

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("指标"), on_delete=models.CASCADE, related_name="links"
    )
    task = models.ForeignKey(
        "tasks.Task", verbose_name=_("任务"), on_delete=models.CASCADE, related_name="indicator_links"
    )
    metric = models.ForeignKey(
        "tasks.Metric",
        verbose_name=_("量化指标"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="indicator_links",
    )
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.SUGGESTED)
    similarity = models.FloatField(_("相似度"), default=0, help_text=_("自动建议时两者共有词语的程度"))
    shared_words = models.CharField(_("共有词语"), max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("建立时间"), default=timezone.now)

    class Meta:
        verbose_name = _("指标与任务对应")
        verbose_name_plural = _("指标与任务对应")
        ordering = ["indicator", "task__number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "task"],
                condition=models.Q(metric__isnull=True),
                name="indicator_link_task_unique",
            ),
            models.UniqueConstraint(
                fields=["indicator", "task", "metric"],
                condition=models.Q(metric__isnull=False),
                name="indicator_link_metric_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} → 任务 {self.task_id}（{self.get_state_display()}）"


class IndicatorAccount(models.Model):
    """The office's work on one leaf: the account (情况说明) written for the dossier, and the self-score with its
    justification. ``version`` guards two office users editing at once. Every change of score leaves a
    ``ScoreEntry``."""

    indicator = models.OneToOneField(
        Indicator, verbose_name=_("指标"), on_delete=models.CASCADE, related_name="account"
    )
    account = models.TextField(_("情况说明"), blank=True)
    score = models.DecimalField(
        _("自评得分"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    justification = models.TextField(_("评分理由"), blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("最后修改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("最后修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("指标自评")
        verbose_name_plural = _("指标自评")

    def __str__(self) -> str:
        return f"指标 {self.indicator_id} 的自评"


class ScoreEntry(models.Model):
    """Who scored what, when: one row per change of a leaf's score or justification."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("指标"), on_delete=models.CASCADE, related_name="score_entries"
    )
    score = models.DecimalField(_("得分"), max_digits=6, decimal_places=2, null=True, blank=True)
    hint = models.DecimalField(_("系统建议分"), max_digits=6, decimal_places=2, null=True, blank=True)
    justification = models.TextField(_("评分理由"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评分人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("评分记录")
        verbose_name_plural = _("评分记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"指标 {self.indicator_id}：{self.score}"


class OfficeFile(models.Model):
    """A file only the office holds (a 命名文件, a meeting record), added to one leaf's evidence."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("指标"), on_delete=models.CASCADE, related_name="office_files"
    )
    file = models.FileField(_("文件"), upload_to="assessment/files/%Y/%m/", max_length=300)
    original_name = models.CharField(_("原文件名"), max_length=255)
    content_type = models.CharField(_("文件类型"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    sha256 = models.CharField(_("校验值"), max_length=64, blank=True)
    caption = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("创建办材料")
        verbose_name_plural = _("创建办材料")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


PICKABLE = ("report", "evidence", "office_file", "site")  # what an EvidencePick points at: one of these


def _exactly_one_of(fields: tuple[str, ...]) -> models.Q:
    """Exactly one of the nullable foreign keys ``fields`` is set."""
    condition = models.Q()
    for chosen in fields:
        condition |= models.Q(**{f"{name}__isnull": name != chosen for name in fields})
    return condition


class EvidencePick(models.Model):
    """One item the office picked into a leaf's dossier: an approved report (its text), one of a report's
    evidence files, an office file, or a named 示范点 of the site register (its card, naming document, photos
    and files). Exactly one of the four is set."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("指标"), on_delete=models.CASCADE, related_name="picks"
    )
    report = models.ForeignKey(
        "reports.ProgressReport",
        verbose_name=_("报告"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    evidence = models.ForeignKey(
        "reports.Evidence",
        verbose_name=_("佐证材料"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    office_file = models.ForeignKey(
        OfficeFile,
        verbose_name=_("创建办材料"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="picks",
    )
    site = models.ForeignKey(
        "sites.Site",
        verbose_name=_("示范点"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    order = models.PositiveIntegerField(_("排序"), default=0)
    picked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("选取人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    picked_at = models.DateTimeField(_("选取时间"), default=timezone.now)

    class Meta:
        verbose_name = _("入卷材料")
        verbose_name_plural = _("入卷材料")
        ordering = ["indicator", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=_exactly_one_of(PICKABLE),
                name="evidence_pick_exactly_one_of_four",
            ),
            models.UniqueConstraint(fields=["indicator", "report"], name="evidence_pick_report_once"),
            models.UniqueConstraint(fields=["indicator", "evidence"], name="evidence_pick_evidence_once"),
            models.UniqueConstraint(fields=["indicator", "office_file"], name="evidence_pick_file_once"),
            models.UniqueConstraint(fields=["indicator", "site"], name="evidence_pick_site_once"),
        ]

    def __str__(self) -> str:
        return f"指标 {self.indicator_id} 的入卷材料 #{self.pk}"


class InspectorGrant(models.Model):
    """Read-only access for a third-party evaluator to one system's indicators, accounts and picked evidence,
    and nothing else, until ``expires_at``. The evaluator opens the link and types the code; only the code's
    hash is stored. The office may revoke it at any time."""

    system = models.ForeignKey(
        IndicatorSystem, verbose_name=_("指标体系"), on_delete=models.CASCADE, related_name="grants"
    )
    name = models.CharField(_("评估人 / 单位"), max_length=100)
    token = models.CharField(_("链接标识"), max_length=64, unique=True)
    code_hash = models.CharField(_("访问码（散列）"), max_length=128)
    expires_at = models.DateTimeField(_("有效期至"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("评估访问授权")
        verbose_name_plural = _("评估访问授权")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def is_valid(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and now < self.expires_at


class InspectorView(models.Model):
    """Every page or file an evaluator opened."""

    grant = models.ForeignKey(
        InspectorGrant, verbose_name=_("授权"), on_delete=models.CASCADE, related_name="views"
    )
    path = models.CharField(_("地址"), max_length=500)
    what = models.CharField(_("内容"), max_length=300, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("评估访问记录")
        verbose_name_plural = _("评估访问记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.grant_id} {self.path}"
