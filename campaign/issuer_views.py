"""发文设置: the office names the issuer once per campaign (发文机关, 印发机关, 主送机关, 抄送), and every output —
the compiled PDF / Word / Excel files and the 通报 — signs with it (``Campaign.issuer_name`` and friends).

The page shows how the 主送 line, the signature and the 版记 will read, and a 「预览」 button shows the same
for what was typed before saving it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from .dates import cn_date
from .decorators import office_required
from .errors import NotFound
from .models import Campaign

NO_CAMPAIGN = "还没有当前的创建活动，无法设置发文机关。请先在“实施方案”中导入并启用方案。"
FIELDS = ("issuer", "printed_by", "main_recipients", "copy_to")
# 印发机关 and 印发日期 share one 4号 line of the 版记 (28 characters less the indents and the date).
PRINTED_BY_ONE_LINE = 18


@dataclass
class IssuerValues:
    issuer: str = ""
    printed_by: str = ""
    main_recipients: str = ""
    copy_to: str = ""


def _clean(value: str) -> str:
    """One line, inner runs of spaces collapsed (full-width spaces too), ends trimmed."""
    return re.sub(r"[\s\u3000]+", " ", value or "").strip()


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def issuer_values_clean(raw) -> tuple[IssuerValues, dict[str, str]]:
    """The four names as typed, cleaned, and a message per field that cannot be used."""
    values = IssuerValues(**{name: _clean(raw.get(name, "")) for name in FIELDS})
    # The documents add the punctuation: "主送机关：" and "抄送：…。"
    values.main_recipients = values.main_recipients.rstrip("：:")
    values.copy_to = values.copy_to.rstrip("。.")
    errors: dict[str, str] = {}
    for name in FIELDS:
        field = Campaign._meta.get_field(name)
        text = getattr(values, name)
        if len(text) > field.max_length:
            errors[name] = f"{field.verbose_name}最多{field.max_length}个字，现在是{len(text)}个字，请精简。"
        elif text and not _has_chinese(text):
            errors[name] = f"{field.verbose_name}应填写机关的中文名称，如“平凉市民族宗教事务委员会”。"
        elif re.search(r"[<>{}\[\]\\|]", text):
            errors[name] = f"{field.verbose_name}中不能有 < > {{ }} [ ] \\ | 等符号，请只填写机关名称和标点。"
    for name in ("issuer", "printed_by"):
        if "，" in getattr(values, name) or "、" in getattr(values, name):
            errors.setdefault(
                name,
                f"{Campaign._meta.get_field(name).verbose_name}只填写一个机关的全称，不要用逗号或顿号分隔。",
            )
    return values, errors


def issuer_update(*, campaign: Campaign, by, values: IssuerValues) -> Campaign:
    """Saves the campaign's issuer names (the caller has checked the person is office staff)."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        for name in FIELDS:
            setattr(locked, name, getattr(values, name))
        locked.save(update_fields=list(FIELDS))
    return locked


def preview(values: IssuerValues, campaign: Campaign) -> dict:
    """How the documents will read with ``values``: the campaign's own defaults fill what is left blank."""
    shown = Campaign(
        city=campaign.city,
        issuer=values.issuer,
        printed_by=values.printed_by,
        main_recipients=values.main_recipients,
        copy_to=values.copy_to,
    )
    return {
        "recipients": f"{shown.main_recipients_text}：",
        "issuer": shown.issuer_name,
        "printed_by": shown.printed_by_name,
        "copy_to": f"抄送：{shown.copy_to}。" if shown.copy_to else "",
        "date": cn_date(timezone.localdate()),
        "printed_by_wraps": len(shown.printed_by_name) > PRINTED_BY_ONE_LINE,
    }


@office_required
@require_http_methods(["GET", "POST"])
def issuer_settings(request):
    campaign = Campaign.current()
    if campaign is None:
        raise NotFound(NO_CAMPAIGN)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, errors = issuer_values_clean(request.POST)
        if not errors and request.POST.get("action") != "preview":
            issuer_update(campaign=campaign, by=request.user, values=values)
            messages.success(request, "发文设置已保存，此后生成的文件和通报都将使用新的名称。")
            return redirect("issuer")
    else:
        values = IssuerValues(**{name: getattr(campaign, name) for name in FIELDS})
    defaults = preview(IssuerValues(), campaign)
    hints = {
        "issuer": f"（默认：{defaults['issuer']}）",
        "printed_by": "（默认同发文机关）",
        "main_recipients": f"（默认：{defaults['recipients']}）不必加冒号。",
        "copy_to": "多个机关用逗号分隔，不必加句号。",
    }
    rows = [
        {
            "name": name,
            "field": Campaign._meta.get_field(name),
            "value": getattr(values, name),
            "error": errors.get(name, ""),
            "hint": hints[name],
            "multiline": name in ("main_recipients", "copy_to"),
        }
        for name in FIELDS
    ]
    status = 400 if errors else 200
    return render(
        request,
        "campaign/issuer.html",
        {
            "campaign": campaign,
            "values": values,
            "errors": errors,
            "rows": rows,
            "preview": preview(values, campaign),
            "is_preview": request.method == "POST" and not errors,
        },
        status=status,
    )
