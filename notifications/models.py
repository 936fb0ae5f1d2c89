"""In-app notifications, a person's e-mail preference, and the ledger that stops reminders going out twice."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    DUE_REMINDER = "due_reminder", _("报送提醒")
    OVERDUE = "overdue", _("逾期通知")
    RETURNED = "returned", _("报告退回")
    RETURNED_REMINDER = "returned_reminder", _("退回未重报提醒")
    REOPENED = "reopened", _("补报开放")
    REVIEW_QUEUE = "review_queue", _("待审核报告")
    OFFICE_DIGEST = "office_digest", _("每日汇总")
    SIGNOFF = "signoff", _("待分管领导审核")
    SIGNOFF_REMINDER = "signoff_reminder", _("待审核提醒（分管领导）")


class Notification(models.Model):
    """One message in one person's inbox. ``title``/``text`` are rendered once, when it is raised."""

    Kind = Kind

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("类型"), max_length=30, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=200)
    text = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True, help_text=_("站内相对地址"))
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notif_recipient_unread")]
        constraints = [
            # The office's review-queue message is one unread row per person whose count is kept current,
            # not one row per submitted report (360 a quarter would bury everything else).
            models.UniqueConstraint(
                fields=["recipient"],
                condition=Q(kind="review_queue", read_at__isnull=True),
                name="one_unread_review_queue_per_recipient",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    PREVIEW_LINES = 5

    @property
    def text_head(self) -> str:
        """The first lines, for the inbox; a digest listing 55 units folds the rest away."""
        return "\n".join(self.text.splitlines()[: self.PREVIEW_LINES])

    @property
    def text_rest(self) -> str:
        return "\n".join(self.text.splitlines()[self.PREVIEW_LINES :])


class NotificationPreference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    email_enabled = models.BooleanField(_("接收邮件提醒"), default=True)

    class Meta:
        verbose_name = _("提醒设置")
        verbose_name_plural = _("提醒设置")

    def __str__(self) -> str:
        return f"{self.user} · {'邮件' if self.email_enabled else '仅站内'}"


class Delivery(models.Model):
    """A scheduled message that has been sent: inserted *before* sending, so a second job run (or a second
    beat process) hits the unique constraint and sends nothing.

    ``key`` tells apart the sends of one kind to one person: the unit and reminder stage ("u12:7"; a person
    may be liaison of two units), the unit of an overdue notice ("u12"), the day of a digest, or the moment
    a report was returned (a report returned twice gets a reminder per return).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("接收人"), on_delete=models.CASCADE, related_name="+"
    )
    period = models.ForeignKey(
        "campaign.ReportingPeriod", verbose_name=_("报告期"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=30, choices=Kind.choices)
    key = models.CharField(_("批次"), max_length=40, blank=True, default="")
    report = models.ForeignKey(
        "reports.ProgressReport",
        verbose_name=_("报告"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    notification = models.ForeignKey(
        Notification,
        verbose_name=_("消息"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("提醒发送记录")
        verbose_name_plural = _("提醒发送记录")
        # Two partial constraints rather than one with a nullable column: NULLs never collide in a
        # unique index (PostgreSQL or SQLite), so (user, period, kind, key, NULL) would not be guarded.
        constraints = [
            models.UniqueConstraint(
                fields=["user", "period", "kind", "key"],
                condition=Q(report__isnull=True),
                name="unique_delivery_per_period",
            ),
            models.UniqueConstraint(
                fields=["user", "report", "kind", "key"],
                condition=Q(report__isnull=False),
                name="unique_delivery_per_report",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.period_id} · {self.kind} {self.key}"
