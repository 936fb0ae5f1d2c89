"""The office's plan import: upload → preview (nothing written) → confirm (one transaction).

The parsed plan waits in the session as JSON between the preview and the confirmation.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from campaign.decorators import office_required
from campaign.errors import DomainError
from units.models import Unit

from .importer import MAX_FILE_BYTES, ParsedPlan, parse_plan_file
from .plan_import import plan_import, plan_preview, suggest_code

SESSION_KEY = "plan_import"


class UploadForm(forms.Form):
    document = forms.FileField(
        label="实施方案文件",
        help_text="Word(.docx) 或文本(.txt) 格式，不超过 10MB。",
        error_messages={
            "required": "请选择实施方案文件。",
            "empty": "上传的文件是空的，请选择实施方案文件。",
        },
        allow_empty_file=True,
    )

    def clean_document(self):
        document = self.cleaned_data["document"]
        if document.size > MAX_FILE_BYTES:
            raise forms.ValidationError("文件超过 10MB，请确认选择的文件是否正确。")
        return document


@office_required
@require_http_methods(["GET", "POST"])
def upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        document = form.cleaned_data["document"]
        try:
            parsed = parse_plan_file(document.name, document.read())
        except DomainError as exc:
            error = exc.message
        else:
            request.session[SESSION_KEY] = parsed.to_dict()
            return redirect("plan_import:preview")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "tasks/import_upload.html",
        {"form": form, "error": error, "pending": request.session.get(SESSION_KEY)},
        status=status,
    )


def _pending(request) -> ParsedPlan | None:
    data = request.session.get(SESSION_KEY)
    if not data:
        return None
    try:
        return ParsedPlan.from_dict(data)
    except (KeyError, TypeError, ValueError):
        request.session.pop(SESSION_KEY, None)
        return None


def _mapping_from_post(post) -> dict[str, dict]:
    """The office's decision for each name that matched no unit, as posted by the preview form."""
    mapping: dict[str, dict] = {}
    for key in post:
        if not key.startswith("name_"):
            continue
        i, name = key[len("name_") :], post[key]
        choice = post.get(f"choice_{i}", "")
        if choice == "skip":
            mapping[name] = {"action": "skip"}
        elif choice == "new":
            mapping[name] = {
                "action": "create",
                "code": post.get(f"code_{i}", "").strip().lower(),
                "name": post.get(f"newname_{i}", "").strip() or name,
                "kind": post.get(f"kind_{i}", Unit.Kind.DEPARTMENT),
            }
        elif choice.isdigit():
            mapping[name] = {"action": "unit", "unit_id": int(choice)}
    return mapping


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@office_required
@require_http_methods(["GET", "POST"])
def preview(request):
    parsed = _pending(request)
    if parsed is None:
        messages.info(request, "请先上传实施方案文件。")
        return redirect("plan_import:upload")

    error = ""
    mapping: dict[str, dict] = {}
    starts_on = ends_on = None
    activate = False
    if request.method == "POST":
        mapping = _mapping_from_post(request.POST)
        starts_on = _date(request.POST.get("starts_on"))
        ends_on = _date(request.POST.get("ends_on"))
        activate = request.POST.get("activate") == "on"
        try:
            campaign = plan_import(
                parsed=parsed,
                mapping=mapping,
                by=request.user,
                activate=activate,
                starts_on=starts_on,
                ends_on=ends_on,
            )
        except DomainError as exc:
            error = exc.message
        else:
            request.session.pop(SESSION_KEY, None)
            state = "，并已设为当前活动" if campaign.is_active else "（未设为当前活动，可在后台启用）"
            messages.success(
                request,
                f"已导入创建活动“{campaign.title}”：{campaign.tasks.count()} 项任务{state}。",
            )
            return redirect("plan_import:upload")

    result = plan_preview(parsed=parsed, starts_on=starts_on, ends_on=ends_on)
    return render(
        request,
        "tasks/import_preview.html",
        _preview_context(result, mapping, error, activate),
        status=400 if error else 200,
    )


def _preview_context(result, mapping: dict, error: str, activate: bool) -> dict:
    parsed = result.parsed
    taken = set(Unit.objects.values_list("code", flat=True))
    unmatched = []
    for i, name in enumerate(result.unmatched):
        code = suggest_code(name, taken)
        taken.add(code)
        chosen = mapping.get(name, {})
        unmatched.append(
            {
                "index": i,
                "name": name,
                "choice": {"skip": "skip", "create": "new"}.get(
                    chosen.get("action"), str(chosen.get("unit_id", ""))
                ),
                "code": chosen.get("code") or code,
                "new_name": chosen.get("name") or name,
                "kind": chosen.get("kind") or Unit.Kind.DEPARTMENT,
            }
        )
    unmatched_names = set(result.unmatched)
    sections = []
    for section in parsed.sections:
        rows = []
        for row in result.tasks:
            if row.task.section_order != section.order:
                continue
            rows.append(
                {
                    "task": row.task,
                    "lead": [result.labels[r.ref] for r in row.responsibilities if r.role == "lead"],
                    "co": [
                        result.labels[r.ref] for r in row.responsibilities if r.role == "co" and not r.by_rule
                    ],
                    "by_rule": [result.labels[r.ref] for r in row.responsibilities if r.by_rule],
                    "pending": [n for n in row.task.names + row.task.rule_names if n in unmatched_names],
                    "skipped_names": [
                        n for n in row.task.names if result.matches.get(n) and result.matches[n].how == "忽略"
                    ],
                    "targets": [
                        {"t": t.target, "units": [result.labels.get(ref, str(ref)) for ref in t.refs]}
                        for t in row.targets
                    ],
                }
            )
        sections.append({"section": section, "rows": rows})
    return {
        "result": result,
        "parsed": parsed,
        "sections": sections,
        "unmatched": unmatched,
        "matched": [
            {"raw": m.raw, "units": [result.labels.get(ref, str(ref)) for ref in m.refs], "how": m.how}
            for m in result.matches.values()
            if m.how != "名称一致"
        ],
        "labels": result.labels,
        "units": Unit.objects.filter(is_active=True).order_by("order", "id"),
        "kinds": Unit.Kind.choices,
        "error": error,
        "activate": activate,
    }


@office_required
@require_POST
def cancel(request):
    request.session.pop(SESSION_KEY, None)
    messages.info(request, "已取消本次导入，未写入任何数据。")
    return redirect("plan_import:upload")
