"""The 示范点 register: real places, cultivated (培育) then named (命名) at a level, each counted once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Site(models.Model):
    class Category(models.TextChoices):
        # The plan's 八进 arenas (tasks 22–29, "进乡镇(街道)" … "进景区"), then the two the issue adds.
        TOWNSHIP = "township", _("乡镇(街道)")
        ORGAN = "organ", _("机关")
        ENTERPRISE = "enterprise", _("企业")
        COMMUNITY = "community", _("社区(村)")
        SCHOOL = "school", _("学校")
        RELIGIOUS = "religious", _("宗教活动场所")
        NEW_ORG = "new_org", _("“两新”组织")
        SCENIC = "scenic", _("景区")
        BARRACKS = "barracks", _("连队(军营)")
        FAMILY = "family", _("家庭")

    class Level(models.TextChoices):
        COUNTY = "county", _("县级")
        CITY = "city", _("市级")
        PROVINCE = "province", _("省级")
        NATION = "nation", _("国家级")

    class Status(models.TextChoices):
        CULTIVATING = "cultivating", _("培育")
        NAMED = "named", _("命名")

    name = models.CharField(_("名称"), max_length=100)
    category = models.CharField(_("类别（八进）"), max_length=20, choices=Category.choices)
    owner = models.ForeignKey(
        "units.Unit", verbose_name=_("创建单位"), on_delete=models.PROTECT, related_name="sites"
    )
    county = models.ForeignKey(
        "units.Unit",
        verbose_name=_("所在县(市、区)"),
        on_delete=models.PROTECT,
        related_name="sites_in",
        limit_choices_to={"kind__in": ["county", "park"]},
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    level = models.CharField(
        _("级别"),
        max_length=10,
        choices=Level.choices,
        default=Level.COUNTY,
        help_text=_("已命名的为命名级别；培育中的为拟创建级别"),
    )
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.CULTIVATING)
    named_on = models.DateField(_("命名日期"), null=True, blank=True)
    naming_document = models.FileField(_("命名文件"), upload_to="sites/naming/", max_length=300, blank=True)
    naming_document_name = models.CharField(_("命名文件原名"), max_length=255, blank=True)
    task = models.ForeignKey(
        "tasks.Task",
        verbose_name=_("服务的任务"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sites",
    )
    contact_name = models.CharField(_("联系人"), max_length=30, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已合并到"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="absorbed",
    )
    merged_at = models.DateTimeField(_("合并时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("建立时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("示范点")
        verbose_name_plural = _("示范点")
        ordering = ["county__order", "category", "name", "id"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def level_label(value: str | None) -> str:
        """The Chinese name of a level value (``sites_as_of`` annotates plain values, ``level_on``)."""
        return str(dict(Site.Level.choices).get(value, "")) if value else ""

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None

    @property
    def cover(self):
        """The first photo, for lists and the 名录 (prefetch ``photos``)."""
        photos = list(self.photos.all())
        return photos[0] if photos else None


def site_file_upload_to(instance, filename: str) -> str:
    return f"sites/{instance.site_id}/{filename}"


class SiteAttachment(models.Model):
    site = models.ForeignKey(Site, verbose_name=_("示范点"), on_delete=models.CASCADE)
    file = models.FileField(_("文件"), upload_to=site_file_upload_to, max_length=300)
    original_name = models.CharField(_("原文件名"), max_length=255)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    sha256 = models.CharField(_("校验值"), max_length=64)
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
        abstract = True
        ordering = ["uploaded_at", "id"]


class SitePhoto(SiteAttachment):
    site = models.ForeignKey(Site, verbose_name=_("示范点"), on_delete=models.CASCADE, related_name="photos")
    thumbnail = models.FileField(_("缩略图"), upload_to="sites/thumbs/", max_length=300, blank=True)

    class Meta(SiteAttachment.Meta):
        verbose_name = _("示范点照片")
        verbose_name_plural = _("示范点照片")

    def __str__(self) -> str:
        return self.original_name


class SiteFile(SiteAttachment):
    site = models.ForeignKey(Site, verbose_name=_("示范点"), on_delete=models.CASCADE, related_name="files")

    class Meta(SiteAttachment.Meta):
        verbose_name = _("示范点文件")
        verbose_name_plural = _("示范点文件")

    def __str__(self) -> str:
        return self.original_name


class SiteNaming(models.Model):
    """A request to name a site (level, date, document) and the office's decision. An approved one is what
    makes the site 命名 at that level from that date: the status and level as of any day are read here."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("待审核")
        APPROVED = "approved", _("已通过")
        RETURNED = "returned", _("已退回")

    site = models.ForeignKey(Site, verbose_name=_("示范点"), on_delete=models.CASCADE, related_name="namings")
    level = models.CharField(_("命名级别"), max_length=10, choices=Site.Level.choices)
    named_on = models.DateField(_("命名日期"))
    document = models.FileField(_("命名文件"), upload_to="sites/naming/", max_length=300)
    document_name = models.CharField(_("命名文件原名"), max_length=255)
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.REQUESTED)
    reason = models.TextField(_("退回理由"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("命名申请")
        verbose_name_plural = _("命名申请")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.site} · {self.get_level_display()} · {self.get_state_display()}"


class SiteChange(models.Model):
    """One change to a site: who, when, which field, before → after. Written by ``sites.services`` only."""

    site = models.ForeignKey(Site, verbose_name=_("示范点"), on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField(_("时间"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    field = models.CharField(_("字段"), max_length=50)
    before = models.TextField(_("修改前"), blank=True)
    after = models.TextField(_("修改后"), blank=True)

    class Meta:
        verbose_name = _("示范点修改记录")
        verbose_name_plural = _("示范点修改记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.site} · {self.field}：{self.before} → {self.after}"
