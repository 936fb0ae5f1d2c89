from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Unit(models.Model):
    """A department, a county-level unit, the park, or the office itself."""

    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("市直部门")
        COUNTY = "county", _("县市区")
        PARK = "park", _("园区")
        OTHER = "other", _("其他")

    code = models.SlugField(
        _("代码"), max_length=40, unique=True, help_text=_("仅限字母、数字和短横线，用作联络员账号")
    )
    name = models.CharField(_("名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices, default=Kind.DEPARTMENT)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    requires_signoff = models.BooleanField(
        _("报送前需分管领导审核"),
        default=False,
        help_text=_("开启后，联络员报送的报告先送本单位分管领导审核，审核通过后才报送到创建办"),
    )

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_county_level(self) -> bool:
        return self.kind in (self.Kind.COUNTY, self.Kind.PARK)


class Membership(models.Model):
    """A person's role in a unit: the liaison who files reports, or the unit leader who signs them off."""

    class Role(models.TextChoices):
        LIAISON = "liaison", _("联络员")
        LEADER = "leader", _("分管领导")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.LIAISON)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("单位成员")
        verbose_name_plural = _("单位成员")
        constraints = [models.UniqueConstraint(fields=["user", "unit", "role"], name="unique_membership")]
        ordering = ["unit__order", "role", "id"]

    def __str__(self) -> str:
        return f"{self.unit} · {self.get_role_display()} · {display_name(self.user)}"


class CampaignRole(models.Model):
    """The two campaign-wide roles: office staff (创建办) review and run; leadership (领导) reads."""

    class Role(models.TextChoices):
        OFFICE = "office", _("创建办")
        LEADERSHIP = "leadership", _("领导")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="campaign_roles",
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("平台角色")
        verbose_name_plural = _("平台角色")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_campaign_role")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} · {display_name(self.user)}"


def display_name(user) -> str:
    """A person's name as shown on pages: the full name when known, else the username."""
    full = f"{user.last_name}{user.first_name}".strip()
    return full or user.get_username()
