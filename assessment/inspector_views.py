"""The grants page (``assessment:grants``: the office gives, shows once, revokes; leadership reads) and the
evaluator's read-only pages under ``/assessment/inspect/<token>/`` (no login: a code, then the session).

The evaluator's pages answer only through ``inspector``: a link that does not exist is a 404, an expired or
revoked grant a clear page (410), a page opened without the code goes to the code form, and every page and
file opened is logged."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from campaign.decorators import office_required, readers_required
from campaign.errors import DomainError, NotFound
from units.access import get_access

from . import inspector, services
from .access import can_edit

GRANTS = "assessment/grants/"
PAGES = "assessment/inspector/"


# ------------------------------------------------------------------------------------------ office


def _grants_context(request, system, **extra) -> dict:
    return {
        "system": system,
        "active": "grants",
        "grants": inspector.grants_of(system),
        "can_edit": can_edit(get_access(request.user)),
        "default_days": inspector.DEFAULT_DAYS,
        "max_days": inspector.MAX_DAYS,
        "values": {"name": "", "days": inspector.DEFAULT_DAYS},
        **extra,
    }


def inspect_url(request, grant) -> str:
    return request.build_absolute_uri(reverse("assessment:inspect", args=[grant.token]))


NEW_GRANT = (
    "assessment:new-grant"  # session key: the grant just made and its code, until the next page shows it
)


@readers_required
def grants_page(request, pk: int):
    """GET: the grants and their use. POST (office): a new grant, then a redirect to this page (a reload cannot
    make a second grant), which shows its link and code once: the code waits in the office's own session only
    until that page takes it out; the database keeps only its hash."""
    system = services.system_for(request.user, pk)
    if request.method != "POST":
        new = request.session.pop(NEW_GRANT, None)
        grant = None
        if new and new.get("system") == system.pk:
            grant = next((g for g in inspector.grants_of(system) if g.pk == new.get("grant")), None)
        extra = {"created": grant, "code": new["code"], "link": inspect_url(request, grant)} if grant else {}
        return render(request, GRANTS + "page.html", _grants_context(request, system, **extra))
    values = {"name": request.POST.get("name", ""), "days": request.POST.get("days", "")}
    try:
        grant, code = inspector.grant_create(
            system=system, by=request.user, name=values["name"], days=values["days"]
        )
    except DomainError as error:
        if error.http_status == 403:
            raise
        context = _grants_context(request, system, error=error.message, values=values)
        return render(request, GRANTS + "page.html", context, status=error.http_status)
    request.session[NEW_GRANT] = {"system": system.pk, "grant": grant.pk, "code": code}
    return redirect("assessment:grants", pk=system.pk)


@readers_required
def grant_page(request, pk: int):
    """One grant and everything its holder opened."""
    grant = inspector.grant_for(user=request.user, pk=pk)
    return render(
        request,
        GRANTS + "log.html",
        {
            "system": grant.system,
            "active": "grants",
            "grant": grant,
            "log": inspector.grant_log(grant),
            "state": inspector.refusal(grant) or "有效",
            "link": inspect_url(request, grant),
            "can_edit": can_edit(get_access(request.user)),
        },
    )


@office_required
def grant_revoke(request, pk: int):
    """GET: are you sure? POST: revoke at once (the evaluator's next page says so)."""
    grant = inspector.grant_for(user=request.user, pk=pk)
    if request.method != "POST":
        return render(
            request, GRANTS + "revoke.html", {"system": grant.system, "active": "grants", "grant": grant}
        )
    try:
        inspector.grant_revoke(grant=grant, by=request.user)
    except DomainError as error:
        if error.http_status == 403:
            raise
        messages.info(request, error.message)
    else:
        messages.success(request, f"已撤销“{grant.name}”的评估访问授权，对方已无法继续查看。")
    return redirect("assessment:grants", pk=grant.system_id)


# ------------------------------------------------------------------------------------------ evaluator


def _closed(request, grant, message: str, status: int = 410):
    return render(request, PAGES + "closed.html", {"grant": grant, "message": message}, status=status)


def _open_grant(request, token: str):
    """(grant, None) when this browser may read the grant's pages, else (grant or None, the response)."""
    try:
        grant = inspector.grant_by_token(token)
    except NotFound as error:
        return None, _closed(request, None, error.message, 404)
    message = inspector.refusal(grant)
    if message:
        return grant, _closed(request, grant, message)
    if not inspector.holds(request, grant):
        return grant, redirect("assessment:inspect", token=grant.token)
    return grant, None


def inspect_home(request, token: str):
    """The code form until the code is typed; then the system's indicators."""
    try:
        grant = inspector.grant_by_token(token)
    except NotFound as error:
        return _closed(request, None, error.message, 404)
    message = inspector.refusal(grant)
    if message:
        return _closed(request, grant, message)
    if not inspector.holds(request, grant):
        if request.method == "POST":
            result = inspector.code_enter(grant=grant, code=request.POST.get("code", ""), request=request)
            if result.ok:
                return redirect("assessment:inspect", token=grant.token)
            status = 429 if result.locked else 400
            return render(
                request, PAGES + "code.html", {"grant": grant, "error": result.message}, status=status
            )
        return render(request, PAGES + "code.html", {"grant": grant})
    inspector.log_view(grant, request, "指标体系总览")
    return render(
        request,
        PAGES + "tree.html",
        {"grant": grant, "inside": True, "system": grant.system, "rows": inspector.inspector_tree(grant)},
    )


def inspect_indicator(request, token: str, pk: int):
    grant, refused = _open_grant(request, token)
    if refused is not None:
        return refused
    try:
        shown = inspector.inspector_indicator(grant, pk)
    except NotFound as error:
        return _closed(request, grant, error.message, 404)
    indicator = shown.indicator
    inspector.log_view(grant, request, f"指标 {indicator.code} {indicator.title}")
    return render(
        request,
        PAGES + "indicator.html",
        {"grant": grant, "inside": True, "system": grant.system, "shown": shown, "indicator": indicator},
    )


@xframe_options_sameorigin
def inspect_file(request, token: str, source: str, pk: int):
    grant, refused = _open_grant(request, token)
    if refused is not None:
        return refused
    try:
        item = inspector.inspector_file(grant, source, pk)
    except NotFound as error:
        return _closed(request, grant, error.message, 404)
    holder = item.holder
    inspector.log_view(grant, request, f"文件 {item.name}")
    inline = item.kind in ("image", "pdf")
    response = FileResponse(
        holder.file.open("rb"), content_type=holder.content_type, as_attachment=not inline, filename=item.name
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
def inspect_leave(request, token: str):
    try:
        grant = inspector.grant_by_token(token)
    except NotFound as error:
        return _closed(request, None, error.message, 404)
    inspector.leave(request, grant)
    return render(request, PAGES + "left.html", {"grant": grant})
