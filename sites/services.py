"""Writes to the register: each checks who may, writes a history row, and raises a DomainError a person can
act on. The unit's own people add and edit its sites and ask for a naming; the office decides and merges."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from campaign.errors import DomainError, NotFound, PermissionDenied
from reports import evidence
from tasks.models import Task
from units.access import get_access
from units.models import Unit

from .models import Site, SiteChange, SiteFile, SiteNaming, SitePhoto

EDITABLE = ("name", "category", "county", "address", "level", "task", "contact_name", "contact_phone")
LABELS = {name: str(Site._meta.get_field(name).verbose_name) for name in (*EDITABLE, "owner", "status")}
LABELS["named_on"] = "命名日期"
LABELS["merge"] = "合并"
LABELS["photo"] = "照片"
LABELS["file"] = "文件"


def visible_sites(user):
    """The sites a person may open: every site for the office and leadership, else their units' own."""
    access = get_access(user)
    qs = Site.objects.filter(merged_into__isnull=True)
    return qs if access.sees_everything else qs.filter(owner_id__in=access.unit_ids)


def site_for(user, pk: int) -> Site:
    """A site the person may read; another unit's site is "not found" (its existence is not theirs to know)."""
    site = visible_sites(user).select_related("owner", "county", "task", "merged_into").filter(pk=pk).first()
    if site is None:
        raise NotFound("没有找到这个示范点：可能已被合并，或不属于您的单位。请回到示范点台账查找。")
    return site


def _require_edit(site_owner_id: int, by) -> None:
    if not get_access(by).can_edit_unit(site_owner_id):
        raise PermissionDenied("只有该示范点所属单位的联络员可以修改它。如需更正，请联系该单位。")


def can_update(user, site_owner_id: int) -> bool:
    """Who may correct a site and add its photos and files: its unit's own people, and the office, which keeps
    the 台账 (leadership reads only)."""
    access = get_access(user)
    return access.can_edit_unit(site_owner_id) or access.is_office


def _require_update(site_owner_id: int, by) -> None:
    if not can_update(by, site_owner_id):
        raise PermissionDenied(
            "只有该示范点所属单位的联络员和创建办可以修改它。如需更正，请联系该单位或创建办。"
        )


def _require_office(by) -> None:
    if not get_access(by).is_office:
        raise PermissionDenied("只有创建办可以审核命名和合并示范点。")


def _display(site: Site, name: str) -> str:
    value = getattr(site, name)
    if value is None or value == "":
        return ""
    if name in ("category", "level", "status"):
        return getattr(site, f"get_{name}_display")()
    return str(value)


def _record(site: Site, by, name: str, before: str, after: str) -> None:
    SiteChange.objects.create(site=site, by=by, field=LABELS.get(name, name), before=before, after=after)


def _clean(data: dict[str, Any], *, owner: Unit) -> dict[str, Any]:
    out = {k: v for k, v in data.items() if k in EDITABLE}
    for key in ("name", "address", "contact_name", "contact_phone"):
        if key in out:
            out[key] = (out[key] or "").strip()
    if "name" in out and not out["name"]:
        raise DomainError("请填写示范点名称。")
    if "category" in out and out["category"] not in Site.Category.values:
        raise DomainError("请选择示范点类别（八进领域）。")
    if "level" in out and out["level"] not in Site.Level.values:
        raise DomainError("请选择级别：县级、市级、省级或国家级。")
    county = out.get("county")
    if "county" in out and (county is None or not county.is_county_level):
        raise DomainError("请选择示范点所在的县(市、区)。")
    if owner.is_county_level and county is not None and county.pk != owner.pk:
        raise DomainError(f"{owner.name}的示范点应在{owner.name}境内，请把所在县(市、区)选为{owner.name}。")
    task = out.get("task")
    if task is not None and not isinstance(task, Task):
        raise DomainError("所服务的任务不存在，请重新选择。")
    return out


@transaction.atomic
def site_create(*, by, owner: Unit, **data) -> Site:
    """A new site of ``owner``, 培育 until the office approves a naming."""
    _require_edit(owner.pk, by)
    if owner.is_county_level:
        data.setdefault("county", owner)
    fields = _clean(data, owner=owner)
    for required in ("name", "category", "county"):
        if not fields.get(required):
            raise DomainError("请填写名称、类别和所在县(市、区)。")
    site = Site.objects.create(owner=owner, **fields)
    _record(site, by, "name", "", f"新建示范点“{site.name}”（{site.get_category_display()}，{owner.name}）")
    return site


@transaction.atomic
def site_update(*, site: Site, by, **data) -> Site:
    """Change some fields; each changed field gets a history row (before → after)."""
    site = Site.objects.select_for_update().get(pk=site.pk)
    _require_update(site.owner_id, by)
    if site.is_merged:
        raise DomainError("这个示范点已合并到另一个示范点，请修改合并后的那个。")
    fields = _clean(data, owner=site.owner)
    for name, value in fields.items():
        before = _display(site, name)
        setattr(site, name, value)
        after = _display(site, name)
        if before != after:
            _record(site, by, name, before, after)
    site.save()
    return site


def _store(model, *, site: Site, by, upload, caption: str = ""):
    kind, sha256, size = evidence.check_upload(upload)
    row = model(
        site=site,
        original_name=evidence.display_name(getattr(upload, "name", "")),
        content_type=kind.content_type,
        size=size,
        sha256=sha256,
        caption=(caption or "").strip()[:200],
        uploaded_by=by,
    )
    row.file.save(evidence.stored_name(kind.extension), upload, save=False)
    return row, kind


@transaction.atomic
def site_add_photo(*, site: Site, by, upload, caption: str = "") -> SitePhoto:
    _require_update(site.owner_id, by)
    kind, *_ = evidence.check_upload(upload)
    if kind not in (evidence.JPEG, evidence.PNG):
        raise DomainError("照片只能是 JPG 或 PNG 图片；文件请在“其他文件”处上传。")
    photo, _kind = _store(SitePhoto, site=site, by=by, upload=upload, caption=caption)
    thumb = evidence.make_thumbnail(upload)
    if thumb is not None:
        photo.thumbnail.save(f"{photo.sha256[:16]}.jpg", thumb, save=False)
    photo.save()
    _record(site, by, "photo", "", f"上传照片“{photo.original_name}”")
    return photo


@transaction.atomic
def site_add_file(*, site: Site, by, upload, caption: str = "") -> SiteFile:
    _require_update(site.owner_id, by)
    row, _kind = _store(SiteFile, site=site, by=by, upload=upload, caption=caption)
    row.save()
    _record(site, by, "file", "", f"上传文件“{row.original_name}”")
    return row


@transaction.atomic
def naming_request(*, site: Site, by, level: str, named_on: dt.date | None, document) -> SiteNaming:
    """The unit asks the office to record a naming: the level, the date on the naming document, the document."""
    site = Site.objects.select_for_update().get(pk=site.pk)
    _require_edit(site.owner_id, by)
    if site.is_merged:
        raise DomainError("这个示范点已合并到另一个示范点，请对合并后的那个申请命名。")
    if level not in Site.Level.values:
        raise DomainError("请选择命名级别：县级、市级、省级或国家级。")
    if named_on is None:
        raise DomainError("请填写命名文件上的命名日期。")
    if named_on > timezone.localdate():
        raise DomainError("命名日期不能晚于今天，请按命名文件填写。")
    if document is None:
        raise DomainError("请上传命名文件（PDF、图片或 Word）。")
    if site.namings.filter(state=SiteNaming.State.REQUESTED).exists():
        raise DomainError("这个示范点已有一份命名申请在等待创建办审核，请等审核结果。")
    kind, _sha, _size = evidence.check_upload(document)
    naming = SiteNaming(
        site=site,
        level=level,
        named_on=named_on,
        document_name=evidence.display_name(getattr(document, "name", "")),
        requested_by=by,
    )
    naming.document.save(evidence.stored_name(kind.extension), document, save=False)
    naming.save()
    _record(site, by, "status", site.get_status_display(), f"申请命名为{naming.get_level_display()}示范点")
    return naming


def _pending(naming: SiteNaming) -> SiteNaming:
    naming = SiteNaming.objects.select_for_update().select_related("site").get(pk=naming.pk)
    if naming.state != SiteNaming.State.REQUESTED:
        raise DomainError(f"这份命名申请已{naming.get_state_display()}，不能再审核。")
    return naming


@transaction.atomic
def naming_approve(*, naming: SiteNaming, by) -> Site:
    """The office confirms the naming: the site becomes 命名 at that level from the document's date."""
    _require_office(by)
    naming = _pending(naming)
    site = naming.site
    before = {name: _display(site, name) for name in ("status", "level", "named_on")}
    naming.state, naming.decided_by, naming.decided_at = SiteNaming.State.APPROVED, by, timezone.now()
    naming.save()
    site.status, site.level, site.named_on = Site.Status.NAMED, naming.level, naming.named_on
    site.naming_document, site.naming_document_name = naming.document.name, naming.document_name
    site.save()
    for name, old in before.items():
        if old != _display(site, name):
            _record(site, by, name, old, _display(site, name))
    return site


@transaction.atomic
def naming_return(*, naming: SiteNaming, by, reason: str) -> SiteNaming:
    _require_office(by)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("退回时请写明理由，让联络员知道要补充或更正什么。")
    naming = _pending(naming)
    naming.state, naming.reason = SiteNaming.State.RETURNED, reason[:1000]
    naming.decided_by, naming.decided_at = by, timezone.now()
    naming.save()
    _record(naming.site, by, "status", "命名申请待审核", f"命名申请被退回：{naming.reason}")
    return naming


@transaction.atomic
def site_merge(*, keep: Site, absorb: Site, by) -> Site:
    """One place entered twice: ``keep`` takes ``absorb``'s photos, files, namings and history; ``absorb``
    stays as a row marked merged into ``keep`` (so links to it still say where it went) and counts no more."""
    _require_office(by)
    if keep.pk == absorb.pk:
        raise DomainError("不能把示范点合并到它自己，请选择另一个示范点。")
    keep, absorb = (Site.objects.select_for_update().get(pk=s.pk) for s in (keep, absorb))
    if keep.is_merged or absorb.is_merged:
        raise DomainError("其中一个示范点已被合并过，请刷新台账后重新选择。")
    for model in (SitePhoto, SiteFile, SiteNaming, SiteChange):
        model.objects.filter(site=absorb).update(site=keep)
    if absorb.created_at < keep.created_at:
        keep.created_at = absorb.created_at  # the place existed since the earlier entry
    approved = keep.namings.filter(state=SiteNaming.State.APPROVED).order_by("-named_on", "-id").first()
    if approved is not None:
        keep.status, keep.level, keep.named_on = Site.Status.NAMED, approved.level, approved.named_on
        keep.naming_document, keep.naming_document_name = approved.document.name, approved.document_name
    keep.save()
    absorb.merged_into, absorb.merged_at = keep, timezone.now()
    absorb.save()
    _record(keep, by, "merge", f"“{absorb.name}”（编号 {absorb.pk}）", f"并入“{keep.name}”")
    return keep


def naming_for_office(pk: int) -> SiteNaming:
    naming = SiteNaming.objects.select_related("site").filter(pk=pk).first()
    if naming is None:
        raise NotFound("没有找到这份命名申请，请回到待审核列表。")
    return naming
