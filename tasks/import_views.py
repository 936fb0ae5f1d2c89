"""The office's plan import: upload → preview (nothing written) → confirm (one transaction).

The parsed plan waits in the session as JSON between the preview and the confirmation, and beside it the
office's draft decisions (units assigned to tasks, names mapped, dates), so assigning units to tasks — on the
preview for many tasks at once, or on a task's own page — loses nothing typed on the preview.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods, require_POST

from campaign.decorators import office_required
from campaign.errors import DomainError
from units.models import Unit

from .forms import active_units
from .importer import MAX_FILE_BYTES, ParsedPlan, parse_plan_file
from .plan_import import UnitDirectory, assignment_clean, plan_import, plan_preview, suggest_code

SESSION_KEY = "plan_import"
DRAFT_KEY = "plan_import_draft"


class UploadForm(forms.Form):
    document = forms.FileField(
        label="实施方案文件",
        help_text="Word(.docx)、Excel(.xlsx) 或文本(.txt) 格式，不超过 10MB。",
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
            request.session.pop(DRAFT_KEY, None)
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


def _draft(request) -> dict:
    """The office's decisions so far: assignments (by task index), mapping, dates and the activate box."""
    draft = request.session.get(DRAFT_KEY) or {}
    return {
        "assignments": {int(i): a for i, a in (draft.get("assignments") or {}).items()},
        "mapping": draft.get("mapping") or {},
        "starts_on": _date(draft.get("starts_on")),
        "ends_on": _date(draft.get("ends_on")),
        "activate": bool(draft.get("activate")),
    }


def _save_draft(request, draft: dict) -> None:
    request.session[DRAFT_KEY] = {
        "assignments": {str(i): a for i, a in draft["assignments"].items()},
        "mapping": draft["mapping"],
        "starts_on": draft["starts_on"].isoformat() if draft["starts_on"] else None,
        "ends_on": draft["ends_on"].isoformat() if draft["ends_on"] else None,
        "activate": draft["activate"],
    }


def _draft_from_post(request, draft: dict) -> dict:
    """The preview form's fields, posted with any of its buttons, over the stored draft."""
    post = request.POST
    return {
        **draft,
        "mapping": _mapping_from_post(post),
        "starts_on": _date(post.get("starts_on")),
        "ends_on": _date(post.get("ends_on")),
        "activate": post.get("activate") == "on",
    }


@office_required
@require_http_methods(["GET", "POST"])
def preview(request):
    parsed = _pending(request)
    if parsed is None:
        messages.info(request, "请先上传实施方案文件。")
        return redirect("plan_import:upload")

    error = ""
    draft = _draft(request)
    if request.method == "POST":
        draft = _draft_from_post(request, draft)
        _save_draft(request, draft)
        try:
            campaign = plan_import(
                parsed=parsed,
                mapping=draft["mapping"],
                by=request.user,
                activate=draft["activate"],
                starts_on=draft["starts_on"],
                ends_on=draft["ends_on"],
                assignments=draft["assignments"],
            )
        except DomainError as exc:
            error = exc.message
        else:
            request.session.pop(SESSION_KEY, None)
            request.session.pop(DRAFT_KEY, None)
            state = "，并已设为当前活动" if campaign.is_active else "，尚未设为当前活动：请核对后在本页启用"
            messages.success(
                request,
                format_html(
                    '已导入创建活动“{}”：{} 项任务{}。<a href="{}" class="alert-link">查看新方案</a>',
                    campaign.title,
                    campaign.tasks.count(),
                    state,
                    reverse("plan_import:plan", args=[campaign.pk]),
                ),
            )
            return redirect("plan_import:plan", pk=campaign.pk)

    try:
        result = plan_preview(
            parsed=parsed,
            mapping=draft["mapping"],
            starts_on=draft["starts_on"],
            ends_on=draft["ends_on"],
            assignments=draft["assignments"],
        )
    except DomainError as exc:
        # An assigned unit was deactivated since: forget the assignments rather than fail the page.
        draft["assignments"] = {}
        _save_draft(request, draft)
        error = error or exc.message
        result = plan_preview(parsed=parsed, starts_on=draft["starts_on"], ends_on=draft["ends_on"])
    return render(
        request,
        "tasks/import_preview.html",
        _preview_context(result, draft["mapping"], error, draft["activate"]),
        status=400 if error else 200,
    )


def _selected_tasks(post, count: int) -> list[int]:
    return sorted({i for i in (_index(v) for v in post.getlist("tasks")) if i is not None and 0 <= i < count})


def _index(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@office_required
@require_POST
def preview_assign(request):
    """Assigns units to the ticked tasks (or clears their assignment), keeping the rest of the preview form.
    With ``edit=<index>`` it keeps the form and opens that task's own page instead."""
    parsed = _pending(request)
    if parsed is None:
        messages.info(request, "请先上传实施方案文件。")
        return redirect("plan_import:upload")
    draft = _draft(request)
    if request.POST.get("from") != "task":
        draft = _draft_from_post(request, draft)
    edit = _index(request.POST.get("edit"))
    if edit is not None and 0 <= edit < len(parsed.tasks):
        _save_draft(request, draft)
        return redirect("plan_import:preview_task", index=edit)

    selected = _selected_tasks(request.POST, len(parsed.tasks))
    numbers = "、".join(str(parsed.tasks[i].number) for i in selected)
    if not selected:
        messages.error(request, "请先勾选要指定责任单位的任务，再点击按钮。")
    elif request.POST.get("op") == "clear":
        for i in selected:
            draft["assignments"].pop(i, None)
        messages.info(request, f"任务{numbers}已恢复为方案原文中的责任单位。")
    else:
        try:
            assigned = assignment_clean(
                lead=_index(request.POST.get("lead")),
                co=[i for i in map(_index, request.POST.getlist("co")) if i is not None],
                directory=UnitDirectory(parsed.city),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            _save_draft(request, draft)
            if request.POST.get("from") == "task":
                return redirect("plan_import:preview_task", index=selected[0])
            return redirect("plan_import:preview")
        for i in selected:
            draft["assignments"][i] = assigned
        messages.success(request, f"已为任务{numbers}指定责任单位（确认导入时写入）。")
    _save_draft(request, draft)
    anchor = f"#task-{parsed.tasks[selected[0]].number}" if selected else ""
    return redirect(reverse("plan_import:preview") + anchor)


@office_required
def preview_task(request, index: int):
    """One task of the pending import, with the unit picker filled with its units as they stand."""
    parsed = _pending(request)
    if parsed is None:
        messages.info(request, "请先上传实施方案文件。")
        return redirect("plan_import:upload")
    if not 0 <= index < len(parsed.tasks):
        messages.error(request, "没有这项任务，请在预览中重新选择。")
        return redirect("plan_import:preview")
    draft = _draft(request)
    result = plan_preview(
        parsed=parsed,
        mapping=draft["mapping"],
        starts_on=draft["starts_on"],
        ends_on=draft["ends_on"],
        assignments=draft["assignments"],
    )
    row = result.tasks[index]
    named = [r for r in row.responsibilities if not r.by_rule and isinstance(r.ref, int)]
    return render(
        request,
        "tasks/import_task.html",
        {
            "index": index,
            "row": row,
            "assigned": index in draft["assignments"],
            "lead_id": next((r.ref for r in named if r.role == "lead"), None),
            "co_ids": {r.ref for r in named if r.role == "co"},
            "by_rule": [result.labels[r.ref] for r in row.responsibilities if r.by_rule],
            "units": list(active_units()),
        },
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
        for index, row in enumerate(result.tasks):
            if row.task.section_order != section.order:
                continue
            rows.append(
                {
                    "index": index,
                    "assigned": index in result.assigned,
                    "open": not row.responsibilities,
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
        "units": list(active_units()),
        "open_count": len(result.open_tasks),
        "kinds": Unit.Kind.choices,
        "error": error,
        "activate": activate,
    }


@office_required
@require_POST
def cancel(request):
    request.session.pop(SESSION_KEY, None)
    request.session.pop(DRAFT_KEY, None)
    messages.info(request, "已取消本次导入，未写入任何数据。")
    return redirect("plan_import:upload")
