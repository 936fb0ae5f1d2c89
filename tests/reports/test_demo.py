"""Demo and scale data. The demo as setup_demo leaves it on 2026-11-29 (built once for the module): every
step dated in order and in the past, a mix an office recognises, figures on the scale of the plan."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter, defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import transaction
from django.db.models import F, Sum
from django.test import override_settings
from docx import Document as DocxDocument
from PIL import Image
from pypdf import PdfReader

from campaign.lights import GREEN, RED
from campaign.models import Campaign, ReportingPeriod
from campaign.services import period_ensure_current
from reports.dashboards.selectors import target_progress
from reports.evidence import DOCX, JPEG, PDF, check_upload
from reports.models import Evidence, MetricValue, ProgressReport, ReportEvent
from tasks.models import Metric, Responsibility, Target, Task
from units.models import Unit

S = ProgressReport.State
NOW = dt.datetime(2026, 11, 29, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SCALE_TODAY = dt.date(2025, 11, 20)


# --------------------------------------------------------------------------------------- scale data


@pytest.fixture
def demo_campaign(plan):
    """Periods as setup_demo left them on SCALE_TODAY: past quarters closed, 2025 Q4 open."""
    for period in ReportingPeriod.objects.all():
        period.state = (
            ReportingPeriod.State.CLOSED if period.ends_on < SCALE_TODAY else ReportingPeriod.State.OPEN
        )
        period.save()
    period_ensure_current(campaign=plan, today=SCALE_TODAY)
    return plan


def test_scale_data_adds_units_with_tasks_and_reports_and_is_idempotent(demo_campaign):
    out = io.StringIO()
    call_command("generate_scale_data", units=80, quarters=2, stdout=out)
    counts = (Unit.objects.count(), ProgressReport.objects.count(), MetricValue.objects.count())

    call_command("generate_scale_data", units=80, quarters=2, stdout=io.StringIO())

    scale = Unit.objects.filter(code__startswith="scale-")
    assert Unit.objects.filter(is_active=True).count() == 80
    assert scale.count() == 24
    assert set(scale.values_list("kind", flat=True)) == {"county", "department"}
    assert all(u.responsibilities.exists() for u in scale)
    assert (Unit.objects.count(), ProgressReport.objects.count(), MetricValue.objects.count()) == counts
    assert set(ProgressReport.objects.values_list("state", flat=True)) == {
        S.DRAFT,
        S.SUBMITTED,
        S.RETURNED,
        S.APPROVED,
    }
    assert "新增报告" in out.getvalue()


def test_scale_data_reset_removes_what_it_added(demo_campaign):
    call_command("generate_scale_data", units=70, quarters=1, stdout=io.StringIO())

    call_command("generate_scale_data", reset=True, stdout=io.StringIO())

    assert not Unit.objects.filter(code__startswith="scale-").exists()
    assert not ProgressReport.objects.filter(unit__code__startswith="scale-").exists()


def test_benchmark_prints_equal_query_counts_and_rolls_back(demo_campaign):
    out = io.StringIO()

    call_command("benchmark_reports", large=90, quarters=2, repeat=2, stdout=out)

    text = out.getvalue()
    assert "联络员“本季度报送”：两种规模下查询次数相同" in text
    assert "创建办审核队列：两种规模下查询次数相同" in text
    assert "（已回滚本次生成的数据）" in text
    assert not Unit.objects.filter(code__startswith="scale-").exists()


# ------------------------------------------------------------------------------------------ the demo


@pytest.fixture(scope="module")
def demo_media(tmp_path_factory):
    """Where the demo's evidence files are written (the per-test MEDIA_ROOT is not there yet)."""
    return tmp_path_factory.mktemp("demo-media")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, demo_media):
    """setup_demo (plan, accounts, reports) run once on NOW for this module's tests, rolled back after."""
    settings = override_settings(
        DEBUG=True,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        MEDIA_ROOT=demo_media,
    )
    clock = time_machine.travel(NOW, tick=False)
    with django_db_blocker.unblock(), clock, settings, transaction.atomic():
        out = io.StringIO()
        call_command("setup_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def closed_periods():
    return list(
        ReportingPeriod.objects.filter(state=ReportingPeriod.State.CLOSED).order_by("year", "quarter")
    )


@pytest.mark.django_db
def test_every_report_is_dated_in_order_and_never_after_now(demo):
    reports = list(ProgressReport.objects.all())

    disordered = []
    for r in reports:
        steps = [t for t in (r.created_at, r.first_submitted_at, r.submitted_at, r.reviewed_at) if t]
        if steps != sorted(steps) or steps[-1] > NOW or r.updated_at > NOW or r.updated_at < steps[-1]:
            disordered.append(r.pk)
    assert len(reports) > 4000
    assert disordered == []
    assert ReportEvent.objects.filter(at__gt=NOW).count() == 0
    assert ReportingPeriod.objects.filter(closed_at__gt=NOW).count() == 0


@pytest.mark.django_db
def test_every_reports_history_runs_in_order_and_ends_in_its_state(demo):
    events = defaultdict(list)
    for e in ReportEvent.objects.order_by("report_id", "at", "id"):
        events[e.report_id].append(e)

    wrong = []
    for r in ProgressReport.objects.all():
        history = events[r.pk]
        at = [e.at for e in history]
        steps = [e for e in history if e.action != "evidence_added"]  # an upload keeps version and state
        submitted = [e.at for e in history if e.action == "submitted"]
        reviews = [e.at for e in history if e.action in ("returned", "approved")]
        if not (
            history[0].action == "created"
            and history[0].at == r.created_at
            and at == sorted(set(at))  # strictly later, step by step
            and [e.version for e in steps] == list(range(1, r.version + 1))
            and all(
                b.version == a.version and b.from_state == b.to_state
                for a, b in zip(history, history[1:], strict=False)
                if b.action == "evidence_added"
            )
            and history[-1].to_state == r.state
            and all(a.to_state == b.from_state for a, b in zip(history, history[1:], strict=False))
            and (submitted[:1] or [None])[0] == r.first_submitted_at
            and (submitted[-1:] or [None])[0] == r.submitted_at
            and (reviews[-1:] or [None])[0] == r.reviewed_at
        ):
            wrong.append(r.pk)
    assert wrong == []


@pytest.mark.django_db
def test_calendar_runs_from_the_plans_first_quarter_to_today_without_a_gap(demo):
    periods = list(ReportingPeriod.objects.order_by("year", "quarter"))

    assert [(p.year, p.quarter) for p in periods] == [
        (2023, 3),
        (2023, 4),
        *[(year, q) for year in (2024, 2025, 2026) for q in (1, 2, 3, 4)],
    ]
    assert [p.state for p in periods] == ["closed"] * 13 + ["open"]
    assert "报告期 14 个（2023年第三季度至2026年第四季度）" in demo


@pytest.mark.django_db
def test_a_closed_quarter_has_late_returned_and_missing_reports(demo):
    period = ReportingPeriod.objects.get(year=2025, quarter=3)
    reports = list(ProgressReport.objects.filter(period=period).select_related("period"))
    expected = Responsibility.objects.filter(unit__is_active=True).count()
    states = Counter(r.state for r in reports)
    returned = [r for r in reports if r.state == S.RETURNED]

    assert sum(r.is_late for r in reports) >= 1
    assert returned and all(r.return_reason for r in returned)
    assert all(r.events.filter(action="returned", comment=r.return_reason).exists() for r in returned)
    assert expected - len(reports) >= 1  # some never written at all
    assert states[S.APPROVED] > 0.9 * expected  # but most units report, and the office approves
    assert sum(r.is_reported for r in reports) == states[S.APPROVED] + states[S.SUBMITTED]


@pytest.mark.django_db
def test_approved_reports_are_reviewed_a_few_days_after_submission(demo):
    waits = [
        (r.reviewed_at - r.submitted_at).days
        for r in ProgressReport.objects.filter(state=S.APPROVED).only("reviewed_at", "submitted_at")
    ]

    assert max(waits) <= 8
    assert sum(waits) / len(waits) < 5


@pytest.mark.django_db
def test_late_and_missing_reports_come_from_a_few_weak_units(demo):
    periods = closed_periods()
    reports = list(ProgressReport.objects.filter(period__in=periods).select_related("period", "unit"))
    late = Counter(r.unit.code for r in reports if r.is_late)
    written = Counter(r.unit.code for r in reports)
    carried = Counter(
        Responsibility.objects.filter(unit__is_active=True).values_list("unit__code", flat=True)
    )
    missing = Counter({code: n * len(periods) - written[code] for code, n in carried.items()})

    worst_late = sum(n for _, n in late.most_common(4))
    worst_missing = sum(n for _, n in missing.most_common(4))
    assert worst_late > 0.5 * sum(late.values())
    assert worst_missing > 0.5 * sum(missing.values())
    assert len([code for code in carried if late[code] == 0]) >= 20  # many units were never late


@pytest.mark.django_db
def test_the_open_quarter_has_only_begun(demo):
    current = ReportingPeriod.objects.get(year=2026, quarter=4)
    reports = ProgressReport.objects.filter(period=current)
    expected = Responsibility.objects.filter(unit__is_active=True).count()
    started_units = set(reports.values_list("unit_id", flat=True))

    assert current.state == "open"
    assert 0 < reports.count() < expected / 3
    assert reports.filter(state=S.DRAFT).count() > reports.exclude(state=S.DRAFT).count() > 0
    assert len(started_units) < Unit.objects.filter(is_active=True).count() / 2
    assert not reports.filter(first_submitted_at__date__gt=current.due_on).exists()


@pytest.mark.django_db
def test_demo_sites_are_a_register_of_places_a_handful_per_county(demo):
    from sites.models import Site
    from sites.selectors import sites_as_of

    end_2025 = dt.date(2025, 12, 31)
    named = sites_as_of(end_2025, status=Site.Status.NAMED)
    per_county = Counter(named.filter(county__kind="county").values_list("county__code", flat=True))
    counties = list(Unit.objects.filter(kind="county").values_list("code", flat=True))

    # Sites are places in the register, not numbers typed into reports (which would count a site once per
    # unit and once per quarter).
    assert not MetricValue.objects.filter(metric__code__in=Metric.REGISTER_CODES).exists()
    # "各县(市、区)示范点不少于5个": most counties reach it, the demo's weak county about half.
    assert sorted(per_county[c] for c in counties)[len(counties) // 2] >= 5
    assert min(per_county[c] for c in counties) >= 2
    # The plan's numbers for tasks 22–29 add up to 18–26 sites per county by the end of 2025: some 170.
    assert 100 <= named.count() <= 250
    assert set(named.exclude(task=None).values_list("task__number", flat=True)) <= set(range(22, 30))


@pytest.mark.django_db
def test_demo_sites_are_named_over_the_campaign_most_in_2024_and_2025(demo):
    from sites.models import SiteNaming

    per_year = Counter(
        SiteNaming.objects.filter(state=SiteNaming.State.APPROVED).values_list("named_on__year", flat=True)
    )

    assert per_year[2024] + per_year[2025] > per_year[2023]
    assert max(per_year) <= NOW.year  # nothing named in the future


@pytest.mark.django_db
def test_live_target_lights_are_mostly_green_with_a_few_red_mostly_in_the_weak_county(demo):
    rows = target_progress(Campaign.current())
    lights = Counter(r.light for r in rows)
    red_units = Counter(r.unit_name for r in rows if r.light == RED)
    worst_unit, worst_reds = red_units.most_common(1)[0]
    city_sites = [r for r in rows if r.target.metric.code in ("sites_provincial", "sites_city")]

    assert lights[RED] > 0
    assert lights[GREEN] >= 0.7 * len(rows)
    assert Unit.objects.get(name=worst_unit).is_county_level and worst_reds >= lights[RED] / 3
    assert len(city_sites) == 2 and all(r.light == GREEN for r in city_sites)  # 7 and 20 reached by 2025
    # Per-year targets are judged in the plan's last year: the reliable units met 2025's numbers.
    per_year = [r for r in rows if r.target.period_kind == Target.PeriodKind.PER_YEAR]
    assert {r.window_label for r in per_year} == {"2025年"}
    assert sum(r.light == GREEN for r in per_year) >= 0.8 * len(per_year)


@pytest.mark.django_db
def test_other_figures_are_on_the_scale_of_the_plans_targets(demo):
    def total(code, year):
        return MetricValue.objects.filter(metric__code=code, report__period__year=year).aggregate(
            t=Sum("value")
        )["t"]

    from sites.models import Site
    from sites.selectors import sites_as_of

    provincial = Target.objects.get(metric__code="sites_provincial").value  # 7 by the end of 2025
    city_level = Target.objects.get(metric__code="sites_city").value  # 20 by the end of 2025
    named = sites_as_of(dt.date(2025, 12, 31), status=Site.Status.NAMED)

    assert (
        MetricValue.objects.filter(
            metric__typical_max__isnull=False, value__gt=F("metric__typical_max")
        ).count()
        == 0
    )
    assert abs(named.filter(level_on__in=["province", "nation"]).count() - provincial) <= 2
    assert abs(named.filter(level_on="city").count() - city_level) <= 4
    assert Decimal(20_000) < total("materials", 2025) < Decimal(200_000)
    assert Decimal(10_000) < total("participants", 2025) < Decimal(150_000)
    assert Decimal(200) < total("funding", 2025) < Decimal(3_000)  # 万元
    meetings = Responsibility.objects.filter(task__targets__metric__code="meetings").count()
    assert 1.5 * meetings < total("meetings", 2025) < 5 * meetings  # "每年研究民族工作不少于2次"


@pytest.mark.django_db
def test_demo_texts_are_chinese_and_name_the_task_and_its_figures(demo):
    report = (
        ProgressReport.objects.select_related("task")
        .filter(metric_values__value__gt=0, state=S.APPROVED)
        .order_by("pk")
        .first()
    )

    assert f"“{report.task.title}”" in report.progress
    assert "本季度共" in report.progress


@pytest.mark.django_db
def test_demo_evidence_is_real_files_on_approved_reports_of_every_task(demo, demo_media, settings):
    settings.MEDIA_ROOT = demo_media
    files = list(
        Evidence.objects.filter(kind=Evidence.Kind.FILE).select_related("report__period", "report__task")
    )

    kinds = Counter(e.content_type for e in files)
    assert 40 <= len(files) <= 80
    assert kinds[JPEG.content_type] >= 25 and kinds[PDF.content_type] >= 5 and kinds[DOCX.content_type] >= 3
    assert set(kinds) == {JPEG.content_type, PDF.content_type, DOCX.content_type}
    assert {e.report.state for e in files} == {S.APPROVED}
    assert {e.report.task_id for e in files} == set(Task.objects.values_list("pk", flat=True))
    assert len({e.report.unit_id for e in files}) >= 15
    assert len({e.report.period_id for e in files}) >= 8
    for e in files:
        with e.file.open("rb") as stored:
            upload = ContentFile(stored.read(), name=e.original_name)
        kind, sha256, size = check_upload(upload)  # the upload's own checks, on the bytes read back
        assert (kind.content_type, sha256, size) == (e.content_type, e.sha256, e.size)
        assert e.file.name.endswith(f".{kind.extension}") and e.download_name.endswith(f".{kind.extension}")
        assert re.search("[\u4e00-\u9fff]", e.caption) and e.uploaded_by_id == e.report.created_by_id
        if kind is JPEG:
            with e.thumbnail.open("rb") as thumb, Image.open(thumb) as small:
                assert max(small.size) <= 320
        else:
            assert not e.thumbnail
        if kind is PDF:
            assert len(PdfReader(io.BytesIO(upload.read())).pages) == 1
        if kind is DOCX:
            text = "".join(p.text for p in DocxDocument(io.BytesIO(upload.read())).paragraphs)
            assert e.report.task.title.replace("“", "‘").replace("”", "’") in text


@pytest.mark.django_db
def test_demo_files_are_uploaded_while_the_report_was_written(demo):
    files = list(Evidence.objects.select_related("report"))
    added = {
        (e.report_id, e.at): e for e in ReportEvent.objects.filter(action=ReportEvent.Action.EVIDENCE_ADDED)
    }

    assert len(added) == len(files)
    for e in files:
        event = added[(e.report_id, e.uploaded_at)]
        assert e.report.created_at < e.uploaded_at < e.report.first_submitted_at
        assert (event.actor_id, event.comment, event.to_state) == (e.uploaded_by_id, e.caption, S.DRAFT)


@pytest.mark.django_db
def test_running_setup_demo_again_adds_nothing(demo):
    counts = (
        ProgressReport.objects.count(),
        MetricValue.objects.count(),
        ReportEvent.objects.count(),
        ReportingPeriod.objects.count(),
        Evidence.objects.count(),
    )
    closings = list(ReportingPeriod.objects.order_by("pk").values_list("closed_at", flat=True))

    out = io.StringIO()
    with time_machine.travel(NOW + dt.timedelta(hours=3), tick=False), override_settings(DEBUG=True):
        call_command("setup_demo", stdout=out)

    assert (
        ProgressReport.objects.count(),
        MetricValue.objects.count(),
        ReportEvent.objects.count(),
        ReportingPeriod.objects.count(),
        Evidence.objects.count(),
    ) == counts
    assert list(ReportingPeriod.objects.order_by("pk").values_list("closed_at", flat=True)) == closings
    assert "新增演示报告 0 份" in out.getvalue()
    assert Campaign.objects.count() == 1
