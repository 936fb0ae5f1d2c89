"""Notifications: raised at once by workflow steps (called by reports.services, no signals) and by the daily
reminder job. Every message is rendered from templates/emails/<kind>/{subject.txt,body.txt,body.html}; the
subject and the text are what the inbox shows, the e-mail adds a greeting and a link.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from campaign.errors import NotFound
from campaign.models import ReportingPeriod
from reports.models import PeriodReopening, ProgressReport
from units.models import display_name

from . import selectors
from .models import Delivery, Kind, Notification, NotificationPreference

log = logging.getLogger(__name__)

# The office hears about each submission through one review-queue message whose count is kept current;
# it is not e-mailed (the daily digest carries the queue by e-mail).
EMAILED_KINDS = {
    Kind.DUE_REMINDER,
    Kind.OVERDUE,
    Kind.RETURNED,
    Kind.RETURNED_REMINDER,
    Kind.REOPENED,
    Kind.OFFICE_DIGEST,
    Kind.SIGNOFF,
    Kind.SIGNOFF_REMINDER,
}
DIGEST_DAYS_BEFORE_DUE = 7
EMAIL_RETRY_HOURS = 48
EMAIL_RETRY_MIN_AGE_MINUTES = 10


# --------------------------------------------------------------------------------------------- links


def report_url(report: ProgressReport) -> str:
    return reverse("reports:detail", args=[report.pk])


def period_url() -> str:
    return reverse("reports:period")


def signoff_queue_url() -> str:
    return reverse("reports:signoff_queue")


def review_queue_url() -> str:
    return reverse("reports:review_queue")


def bulletin_url(period: ReportingPeriod) -> str:
    return reverse("notifications:bulletin") + f"?period={period.pk}"


def absolute(url: str) -> str:
    return settings.SITE_URL.rstrip("/") + url if url.startswith("/") else url


# ------------------------------------------------------------------------------------------ rendering


def _render(kind: str, recipient, context: dict) -> tuple[str, str, dict]:
    ctx = {
        **context,
        "recipient": recipient,
        "recipient_name": display_name(recipient),
        "site_url": settings.SITE_URL.rstrip("/"),
        "portal_name": settings.PORTAL_NAME,
    }
    ctx["absolute_url"] = absolute(ctx.get("url", ""))
    title = " ".join(render_to_string(f"emails/{kind}/subject.txt", ctx).split())
    text = render_to_string(f"emails/{kind}/body.txt", {**ctx, "for_email": False}).strip()
    return title[:200], text, ctx


@dataclass
class Outgoing:
    notification: Notification
    context: dict


def _create(*, recipient, kind: str, context: dict, url: str) -> Outgoing:
    title, text, ctx = _render(kind, recipient, {**context, "url": url})
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, title=title, text=text, url=url
    )
    return Outgoing(notification, ctx)


# ------------------------------------------------------------------------------------------------ e-mail


def _email_opt_outs(user_ids) -> set[int]:
    return set(
        NotificationPreference.objects.filter(user_id__in=list(user_ids), email_enabled=False).values_list(
            "user_id", flat=True
        )
    )


def _wants_email(notifications: list[Notification]) -> list[Notification]:
    candidates = [n for n in notifications if n.kind in EMAILED_KINDS and (n.recipient.email or "").strip()]
    opted_out = _email_opt_outs({n.recipient_id for n in candidates})
    return [n for n in candidates if n.recipient_id not in opted_out]


def _deliver(items: list[tuple[Notification, dict | None]]) -> int:
    """Send each message once: claim it by setting ``emailed_at`` where it is still empty (a conditional
    update, so two job runs cannot both send it), send, and give the claim back if the send fails so a
    later run retries. ``None`` as context means a retry: the stored title and text are sent as they are.
    """
    if not items:
        return 0
    try:
        connection = get_connection()
        connection.open()
    except Exception:  # noqa: BLE001 - a mail misconfiguration must not lose the inbox messages
        log.exception("无法连接邮件服务器，%s 封邮件留待下次发送", len(items))
        return 0
    sent = 0
    try:
        for n, context in items:
            if not Notification.objects.filter(pk=n.pk, emailed_at__isnull=True).update(
                emailed_at=timezone.now()
            ):
                continue  # another run has it
            try:
                _message(n, context, connection).send()
            except Exception:  # noqa: BLE001 - one bad address or a flaky relay must not stop the others
                log.exception("发送邮件失败：消息 %s 至 %s", n.pk, n.recipient.email)
                Notification.objects.filter(pk=n.pk).update(emailed_at=None)
                continue
            sent += 1
    finally:
        connection.close()
    return sent


def _message(n: Notification, context: dict | None, connection) -> EmailMultiAlternatives:
    if context is None:
        # A retry: the context the templates had is gone; the stored text is what the inbox shows.
        context = {
            "recipient": n.recipient,
            "recipient_name": display_name(n.recipient),
            "portal_name": settings.PORTAL_NAME,
            "absolute_url": absolute(n.url),
            "stored_text": n.text,
        }
        kind = "_stored"
    else:
        kind = n.kind
    ctx = {**context, "for_email": True}
    message = EmailMultiAlternatives(
        subject=n.title,
        body=render_to_string(f"emails/{kind}/body.txt", ctx).strip() + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[n.recipient.email.strip()],
        connection=connection,
    )
    message.attach_alternative(render_to_string(f"emails/{kind}/body.html", ctx), "text/html")
    return message


def send_emails(outgoing: list[Outgoing]) -> int:
    """E-mail the new messages whose kind is e-mailed, to people with an address who have not turned it off.

    Runs after the rows are committed. A failed send is logged and left for ``send_pending_emails``; the
    message is in the inbox either way, and the delivery row still stops a second reminder.
    """
    contexts = {o.notification.pk: o.context for o in outgoing}
    wanted = _wants_email([o.notification for o in outgoing])
    return _deliver([(n, contexts[n.pk]) for n in wanted])


def send_pending_emails(*, exclude: set[int] | frozenset = frozenset()) -> int:
    """Retry e-mails that failed (relay down, misconfiguration) within the last EMAIL_RETRY_HOURS.

    Messages younger than a few minutes are left alone: a run working at the same moment is still about
    to send them with their full templates.
    """
    now = timezone.now()
    pending = list(
        Notification.objects.filter(
            kind__in=EMAILED_KINDS,
            emailed_at__isnull=True,
            created_at__gte=now - dt.timedelta(hours=EMAIL_RETRY_HOURS),
            created_at__lte=now - dt.timedelta(minutes=EMAIL_RETRY_MIN_AGE_MINUTES),
        )
        .exclude(pk__in=list(exclude))
        .exclude(recipient__email="")
        .select_related("recipient")
        .order_by("pk")
    )
    return _deliver([(n, None) for n in _wants_email(pending)])


def _send_after_commit(outgoing: list[Outgoing]) -> None:
    # A workflow step that rolls back must not have e-mailed anyone.
    if outgoing:
        transaction.on_commit(lambda: send_emails(outgoing))


# ------------------------------------------------------------------------------- immediate notifications


def notify_report_submitted(*, report) -> None:
    """A report was submitted: the office's review queue grew.

    Each office person has one unread "待审核" message whose count is refreshed on every submission,
    so the bell shows that something is waiting without one message per report.
    """
    waiting = selectors.waiting_for_review()
    context = {"report": report, "unit": report.unit, "task": report.task, "period": report.period}
    context["waiting"] = waiting
    url = review_queue_url()
    for user in selectors.office_users():
        title, text, _ = _render(Kind.REVIEW_QUEUE, user, {**context, "url": url})
        fields = {"title": title, "text": text, "url": url, "created_at": timezone.now()}
        unread = Notification.objects.filter(recipient=user, kind=Kind.REVIEW_QUEUE, read_at__isnull=True)
        if unread.update(**fields):
            continue
        try:
            with transaction.atomic():
                Notification.objects.create(recipient=user, kind=Kind.REVIEW_QUEUE, **fields)
        except IntegrityError:
            # Another submission created it a moment ago: refresh that one instead.
            unread.update(**fields)


def notify_report_sent_for_signoff(*, report) -> None:
    """A liaison sent a report to the unit's 分管领导: tell the unit's leaders, with how many wait for them."""
    people = selectors.unit_people([report.unit_id]).get(report.unit_id)
    if people is None or not people.leaders:
        return
    context = {
        "report": report,
        "unit": report.unit,
        "task": report.task,
        "period": report.period,
        "sender_name": display_name(report.submitted_by) if report.submitted_by else "联络员",
        "waiting": selectors.waiting_for_signoff(report.unit_id),
    }
    url = signoff_queue_url()
    outgoing = [
        _create(recipient=user, kind=Kind.SIGNOFF, context=context, url=url) for user in people.leaders
    ]
    _send_after_commit(outgoing)


def notify_report_returned(*, report, reason: str) -> None:
    """A report was returned: tell the unit's liaisons, with the reason."""
    people = selectors.unit_people([report.unit_id]).get(report.unit_id)
    if people is None:
        return
    context = {
        "report": report,
        "unit": report.unit,
        "task": report.task,
        "period": report.period,
        "reason": reason,
    }
    url = report_url(report)
    outgoing = [
        _create(recipient=user, kind=Kind.RETURNED, context=context, url=url) for user in people.liaisons
    ]
    _send_after_commit(outgoing)


def notify_period_reopened(*, reopening) -> None:
    """A closed period was reopened for a unit: tell its liaisons."""
    people = selectors.unit_people([reopening.unit_id]).get(reopening.unit_id)
    if people is None:
        return
    context = {"reopening": reopening, "unit": reopening.unit, "period": reopening.period}
    url = period_url()
    outgoing = [
        _create(recipient=user, kind=Kind.REOPENED, context=context, url=url) for user in people.liaisons
    ]
    _send_after_commit(outgoing)


# ------------------------------------------------------------------------------------------- the daily job


def reminder_stage(days_to_due: int, stages: list[int] | None = None) -> int | None:
    """Which "N days before" reminder is due: the smallest configured N not below the days left.

    With 7, 3, 1: days 7..4 → 7, 3..2 → 3, 1 → 1; none on the due date or more than 7 days before. Days in
    between map to the last stage passed, so a day the job did not run is made up the next day (the
    delivery row keeps that to one message per stage).
    """
    stages = settings.REMINDER_DAYS_BEFORE_DUE if stages is None else stages
    if days_to_due <= 0:
        return None
    candidates = sorted(n for n in stages if n >= days_to_due)
    return candidates[0] if candidates else None


def _send_once(
    *,
    recipient,
    period: ReportingPeriod,
    kind: str,
    key: str = "",
    report: ProgressReport | None = None,
    context: dict,
    url: str,
    done: set[tuple],
) -> Outgoing | None:
    """Claim the (person, period, kind, key[, report]) slot, then raise the message; None if already sent.

    The claim is an INSERT under a unique constraint, so two job runs or two beat processes racing each
    other cannot both pass: the second waits for the first's commit and then fails the insert. ``done``
    (what was recorded before this run started) only spares the database the inserts bound to fail.
    """
    if (recipient.pk, period.pk, kind, key, report.pk if report else None) in done:
        return None
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                user=recipient, period=period, kind=kind, key=key, report=report
            )
            outgoing = _create(recipient=recipient, kind=kind, context=context, url=url)
            delivery.notification = outgoing.notification
            delivery.save(update_fields=["notification"])
    except IntegrityError:
        return None
    return outgoing


def _returned_at(report: ProgressReport) -> dt.datetime:
    return report.returned_at or report.updated_at


def _returned_reminders(today: dt.date, counts: Counter, done: set[tuple]) -> list[Outgoing]:
    """Returned reports not resubmitted within RETURNED_REMINDER_AFTER_DAYS, where the unit can still act."""
    after = dt.timedelta(days=settings.RETURNED_REMINDER_AFTER_DAYS)
    reports = [
        r
        for r in ProgressReport.objects.filter(
            state=ProgressReport.State.RETURNED, period__campaign__is_active=True
        )
        .exclude(period__state=ReportingPeriod.State.UPCOMING)
        .select_related("period", "unit", "task")
        .order_by("period_id", "unit__order", "task__number")
        if timezone.localdate(_returned_at(r)) + after <= today
    ]
    if not reports:
        return []
    reopened = {
        (r.period_id, r.unit_id)
        for r in PeriodReopening.objects.filter(
            revoked_at__isnull=True, period_id__in={r.period_id for r in reports}
        )
        if r.until is None or r.until >= today
    }
    people = selectors.unit_people({r.unit_id for r in reports})
    outgoing = []
    for report in reports:
        # In a closed period the unit cannot resubmit unless the office reopened it: no point chasing.
        if report.period.is_closed and (report.period_id, report.unit_id) not in reopened:
            continue
        returned_at = _returned_at(report)
        context = {
            "report": report,
            "unit": report.unit,
            "task": report.task,
            "period": report.period,
            "reason": report.return_reason,
            "returned_on": timezone.localdate(returned_at),
            "days_since": (today - timezone.localdate(returned_at)).days,
        }
        for user in people.get(report.unit_id, selectors.UnitPeople()).liaisons:
            sent = _send_once(
                done=done,
                recipient=user,
                period=report.period,
                kind=Kind.RETURNED_REMINDER,
                key=timezone.localtime(returned_at).strftime("%Y%m%dT%H%M%S"),
                report=report,
                context=context,
                url=report_url(report),
            )
            if sent:
                outgoing.append(sent)
                counts["returned_reminder"] += 1
    return outgoing


def _signoff_reminders(today: dt.date, counts: Counter, done: set[tuple]) -> list[Outgoing]:
    """Leaders with reports waiting for their sign-off since before today: one reminder per leader, unit and
    period a day (the day a report is sent, its leaders were told at once)."""
    waiting = [
        r
        for r in ProgressReport.objects.filter(
            state=ProgressReport.State.AWAITING_SIGNOFF,
            period__state=ReportingPeriod.State.OPEN,
            period__campaign__is_active=True,
        )
        .select_related("period", "unit", "task")
        .order_by("period_id", "unit__order", "task__number")
        if r.sent_for_signoff_at is None or timezone.localdate(r.sent_for_signoff_at) < today
    ]
    groups: dict[tuple[int, int], list[ProgressReport]] = {}
    for report in waiting:
        groups.setdefault((report.period_id, report.unit_id), []).append(report)
    people = selectors.unit_people({unit_id for _, unit_id in groups})
    outgoing = []
    for (_, unit_id), reports in groups.items():
        first = reports[0]
        context = {"unit": first.unit, "period": first.period, "reports": reports, "waiting": len(reports)}
        for user in people.get(unit_id, selectors.UnitPeople()).leaders:
            sent = _send_once(
                done=done,
                recipient=user,
                period=first.period,
                kind=Kind.SIGNOFF_REMINDER,
                key=f"u{unit_id}:{today.isoformat()}",
                context=context,
                url=signoff_queue_url(),
            )
            if sent:
                outgoing.append(sent)
                counts["signoff_reminder"] += 1
    return outgoing


def _period_messages(
    period: ReportingPeriod, today: dt.date, counts: Counter, done: set[tuple]
) -> list[Outgoing]:
    days = period.days_to_due(today)
    stage = reminder_stage(days)
    overdue = period.is_past_due(today)
    digest = days <= DIGEST_DAYS_BEFORE_DUE
    if stage is None and not overdue and not digest:
        return []
    gaps = selectors.period_gaps(period)
    behind = [g for g in gaps if g.missing]
    people = selectors.unit_people(g.unit.pk for g in behind)
    base = {
        "period": period,
        "due_on": period.due_on,
        "today": today,
        "days_left": days,
        "days_overdue": -days,
    }
    outgoing: list[Outgoing] = []
    for gap in behind:
        unit_people = people.get(gap.unit.pk, selectors.UnitPeople())
        context = {**base, "unit": gap.unit, "gap": gap, "missing": gap.missing}
        if stage is not None:
            for user in unit_people.liaisons:
                sent = _send_once(
                    done=done,
                    recipient=user,
                    period=period,
                    kind=Kind.DUE_REMINDER,
                    key=f"u{gap.unit.pk}:{stage}",
                    context={**context, "stage": stage},
                    url=period_url(),
                )
                if sent:
                    outgoing.append(sent)
                    counts["due_reminder"] += 1
        if overdue:
            recipients = list(dict.fromkeys(unit_people.liaisons + unit_people.leaders))
            for user in recipients:
                sent = _send_once(
                    done=done,
                    recipient=user,
                    period=period,
                    kind=Kind.OVERDUE,
                    key=f"u{gap.unit.pk}",
                    context={**context, "is_leader": user in unit_people.leaders},
                    url=period_url(),
                )
                if sent:
                    outgoing.append(sent)
                    counts["overdue"] += 1
    if digest:
        waiting = selectors.waiting_for_review(period)
        if behind or waiting:
            context = {
                **base,
                "behind": behind,
                "overdue": overdue,
                "waiting": waiting,
                "expected_total": sum(g.expected for g in gaps),
                "reported_total": sum(g.reported for g in gaps),
                "review_url": absolute(review_queue_url()),
            }
            for user in selectors.office_users():
                sent = _send_once(
                    done=done,
                    recipient=user,
                    period=period,
                    kind=Kind.OFFICE_DIGEST,
                    key=today.isoformat(),
                    context=context,
                    url=bulletin_url(period),
                )
                if sent:
                    outgoing.append(sent)
                    counts["office_digest"] += 1
    return outgoing


def reminders_send_daily(*, today: dt.date | None = None) -> dict[str, int]:
    """The daily job: reminders before the due date, overdue notices after it, returned-report reminders,
    reminders to unit leaders with reports waiting for their sign-off, and the office's digest, for every open period of the active campaign. Safe to run any number of
    times a day: what was sent is recorded first, and sent only once.
    """
    today = today or timezone.localdate()
    counts: Counter = Counter()
    outgoing: list[Outgoing] = []
    periods = ReportingPeriod.objects.filter(
        state=ReportingPeriod.State.OPEN, campaign__is_active=True
    ).select_related("campaign")
    done = set(
        Delivery.objects.filter(period__state=ReportingPeriod.State.OPEN).values_list(
            "user_id", "period_id", "kind", "key", "report_id"
        )
    )
    for period in periods:
        outgoing += _period_messages(period, today, counts, done)
    outgoing += _returned_reminders(today, counts, done)
    outgoing += _signoff_reminders(today, counts, done)
    counts["emails"] = send_emails(outgoing)
    counts["emails"] += send_pending_emails(exclude={o.notification.pk for o in outgoing})
    return {
        key: counts[key]
        for key in (
            "due_reminder",
            "overdue",
            "returned_reminder",
            "signoff_reminder",
            "office_digest",
            "emails",
        )
    }


# ----------------------------------------------------------------------------------------- inbox writes


def notification_mark_read(*, user, notification_id: int) -> Notification:
    """Mark one of the person's own messages read; someone else's is "not found", not "forbidden"."""
    notification = Notification.objects.filter(pk=notification_id, recipient=user).first()
    if notification is None:
        raise NotFound("没有这条消息。")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def preference_for(user) -> NotificationPreference:
    """The person's settings; not stored until changed (the default is e-mail on)."""
    pref = NotificationPreference.objects.filter(user=user).first()
    return pref or NotificationPreference(user=user)


def preference_set(*, user, email_enabled: bool) -> NotificationPreference:
    pref, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email_enabled": email_enabled}
    )
    return pref
