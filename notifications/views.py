"""Inbox, mark read, settings, and the office's overdue bulletin (page, Word, PDF)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaign.decorators import domain_errors_as_pages, office_required
from campaign.errors import NotFound
from campaign.models import ReportingPeriod
from campaign.redirects import safe_next
from units.access import get_access

from . import bulletin as documents
from . import selectors, services

PAGE_SIZE = 20
NO_PERIOD = "没有这个报告期。"


@domain_errors_as_pages
@require_GET
def inbox(request):
    show = request.GET.get("show", "")
    qs = selectors.inbox_for(request.user)
    if show == "unread":
        qs = qs.filter(read_at__isnull=True)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "show": show, "is_office": get_access(request.user).is_office},
    )


@require_GET
def bell(request):
    """The bell alone, for the header's periodic HTMX refresh. Signed out (session expired), it answers
    204 so that htmx leaves the header alone instead of swapping the login page into it."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    return render(request, "notifications/bell.html")


@domain_errors_as_pages
@require_POST
def mark_read(request, pk: int):
    notification = services.notification_mark_read(user=request.user, notification_id=pk)
    if request.htmx:
        response = render(request, "notifications/_item.html", {"n": notification, "oob_bell": True})
        return response
    return redirect(_back(request))


@domain_errors_as_pages
@require_POST
def mark_all_read(request):
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, f"已将 {count} 条消息标为已读。" if count else "没有未读消息。")
    return redirect(_back(request))


@domain_errors_as_pages
@require_GET
def follow(request, pk: int):
    """Open a message's link and mark it read on the way (like following a link in a mail client)."""
    notification = services.notification_mark_read(user=request.user, notification_id=pk)
    return redirect(safe_next(request, notification.url, "notifications:inbox"))


def _back(request) -> str:
    return safe_next(request, request.POST.get("next"), "notifications:inbox")


class PreferenceForm(forms.Form):
    email_enabled = forms.BooleanField(label="通过电子邮件接收提醒", required=False)


@domain_errors_as_pages
@require_http_methods(["GET", "POST"])
def preferences(request):
    pref = services.preference_for(request.user)
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            services.preference_set(user=request.user, email_enabled=form.cleaned_data["email_enabled"])
            messages.success(request, "提醒设置已保存。")
            return redirect("notifications:settings")
    else:
        form = PreferenceForm(initial={"email_enabled": pref.email_enabled})
    return render(
        request,
        "notifications/settings.html",
        {"form": form, "pref": pref, "email": (request.user.email or "").strip()},
    )


def _bulletin(request, period_id: int | None):
    today = timezone.localdate()
    periods = selectors.bulletin_periods()
    if period_id is None:
        raw = request.GET.get("period", "")
        period = None
        if raw:
            period = next((p for p in periods if raw.isdigit() and p.pk == int(raw)), None)
            if period is None:
                raise NotFound(NO_PERIOD)
        else:
            period = selectors.default_bulletin_period(periods, today=today)
    else:
        period = (
            ReportingPeriod.objects.select_related("campaign")
            .exclude(state=ReportingPeriod.State.UPCOMING)
            .filter(pk=period_id)
            .first()
        )
        if period is None:
            raise NotFound(NO_PERIOD)
    return periods, period, (selectors.bulletin_for(period, today=today) if period else None)


@office_required
@require_GET
def bulletin(request):
    periods, period, data = _bulletin(request, None)
    return render(
        request,
        "notifications/bulletin.html",
        {
            "periods": periods,
            "period": period,
            "bulletin": data,
            "summary": documents.summary_text(data) if data else "",
        },
    )


def _download(content: bytes, content_type: str, name: str) -> HttpResponse:
    from urllib.parse import quote

    response = HttpResponse(content, content_type=content_type)
    # RFC 5987 so that the Chinese file name survives every browser.
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@office_required
@require_GET
def bulletin_docx(request, period_id: int):
    _, _, data = _bulletin(request, period_id)
    return _download(
        documents.bulletin_docx(data),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        documents.filename(data, "docx"),
    )


@office_required
@require_GET
def bulletin_pdf(request, period_id: int):
    _, _, data = _bulletin(request, period_id)
    return _download(documents.bulletin_pdf(data), "application/pdf", documents.filename(data, "pdf"))
