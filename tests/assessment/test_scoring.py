"""Self-scoring: the hint's rules (coverage, evidence, targets, window), the office's score (bounds, required
justification, history, version), and the demo seeding."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment import scoring
from assessment.models import EvidencePick, IndicatorAccount, IndicatorLink, ScoreEntry
from assessment.scoring_demo import seed_scores
from campaign.errors import DomainError, PermissionDenied, StaleVersion
from campaign.models import ReportingPeriod
from reports import figures
from reports.models import Evidence, ProgressReport
from tasks.models import Metric, Responsibility, Task
from tests.assessment.conftest import node
from tests.assessment.test_evidence_picks import add_file
from tests.factories import make_report
from units.models import Unit

APPROVED = ProgressReport.State.APPROVED


def period(year, quarter) -> ReportingPeriod:
    return ReportingPeriod.objects.get(year=year, quarter=quarter)


def window_2024(campaign):
    return scoring.hint_window(campaign, first=period(2024, 1).pk, last=period(2024, 4).pk)


def unit(code) -> Unit:
    return Unit.objects.get(code=code)


# ---------------------------------------------------------------- the hint


def test_no_confirmed_link_gives_no_hint(small_system):
    hint = scoring.hint_for(node(small_system, "2.1.2"), window_2024(small_system.campaign))  # only suggested
    assert hint.score is None
    assert "尚未确认对应任务" in hint.reasons[0]


def test_hint_from_reporting_and_evidence_in_the_window(small_system, unit_a, unit_b):
    leaf = node(small_system, "2.1.1")  # 20 points, task 3 (9 responsible units, lead 市委宣传部, no targets)
    with_file = make_report(period=period(2024, 1), unit=unit_a, task=3, state=APPROVED)
    add_file(with_file)
    add_file(with_file)
    Evidence.objects.create(report=with_file, kind=Evidence.Kind.LINK, url="https://example.com/a")
    make_report(period=period(2024, 2), unit=unit_b, task=3, state=APPROVED)
    make_report(period=period(2024, 3), unit=unit_b, task=3, state=APPROVED)  # same unit again
    make_report(period=period(2023, 4), unit=unit("huating"), task=3, state=APPROVED)  # before the window
    make_report(period=period(2024, 2), unit=unit("jingchuan"), task=3)  # submitted, not approved
    make_report(period=period(2024, 1), unit=unit_b, task=9, state=APPROVED)  # a task only suggested

    hint = scoring.hint_for(leaf, window_2024(small_system.campaign))

    cov = hint.coverage
    assert (cov.expected, cov.reported, cov.leads_expected, cov.leads_reported) == (9, 2, 1, 1)
    assert (cov.reports, cov.with_evidence, cov.files, cov.targets) == (3, 1, 2, 0)
    # readiness = 0.7 × 2/9 + 0.3 × 1/3 = 0.2556; 20 × 0.2556 = 5.11 → 5 (down to 0.5)
    assert hint.score == Decimal("5.00")
    assert hint.readiness_percent == "26%"
    text = "\n".join(hint.reasons)
    assert "任务3" in text and "任务9" not in text
    assert (
        "责任分工 9 项（任务×责任单位）中，2 项在2024年第一季度至2024年第四季度有审核通过的报告（22%）"
        in text
    )
    assert "牵头单位 1/1" in text
    assert "审核通过的报告 3 份，其中 1 份附有佐证文件（33%），佐证文件共 2 个" in text
    assert "对应任务没有量化目标" in text

    # the whole campaign as window: the 2023 report counts too
    everything = scoring.hint_for(leaf, scoring.hint_window(small_system.campaign))
    assert everything.coverage.reported == 3 and everything.coverage.reports == 4


def test_hint_counts_targets_as_the_dashboard_lights_them(small_system):
    leaf = node(small_system, "1.1.2")  # 15 points, task 2 (no targets)
    task8 = Task.objects.get(
        number=8
    )  # meetings ≥ 2 a year and study sessions ≥ 1 a year, each responsible unit
    meetings = Metric.objects.get(code="meetings")
    IndicatorLink.objects.create(
        indicator=leaf, task=task8, metric=meetings, state=IndicatorLink.State.CONFIRMED
    )
    lead = Responsibility.objects.filter(task=task8).leads().get().unit
    met = make_report(period=period(2025, 1), unit=lead, task=8, state=APPROVED, metrics={"meetings": 2})
    figures.report_moved(met)  # made without the services: tell the dashboards' read model, as they do
    window = scoring.hint_window(small_system.campaign, first=period(2025, 1).pk, last=period(2025, 2).pk)
    responsible = Responsibility.objects.filter(task=task8, unit__is_active=True).count()

    hint = scoring.hint_for(leaf, window)
    cov = hint.coverage
    # only the link's metric: one target row per responsible unit; the lead's 2 meetings meet it, the others
    # are behind the year's pace as of 2025-06-30 (yellow), none overdue yet
    assert cov.targets == responsible
    assert (cov.targets_green, cov.targets_red) == (1, 0)
    text = "\n".join(hint.reasons)
    assert f"目标 {responsible} 项中 1 项已达标或进度正常" in text
    assert "截至2025年6月30日" in text
    # readiness = 0.5 × reporting + 0.2 × evidence + 0.3 × targets
    expected = (
        Decimal("0.5") * cov.reporting_share
        + Decimal("0.2") * cov.evidence_share
        + Decimal("0.3") / responsible
    )
    assert abs(hint.readiness - expected) < Decimal("1e-9")
    assert hint.score == (Decimal(15) * expected * 2).to_integral_value(rounding="ROUND_FLOOR") / 2

    # a link to the whole task counts every target of it (meetings and study sessions)
    IndicatorLink.objects.filter(indicator=leaf, task=task8).update(metric=None)
    assert scoring.hint_for(leaf, window).coverage.targets == 2 * responsible


def test_hints_for_a_system_take_a_fixed_number_of_queries(small_system, unit_a, unit_b):
    leaves = [node(small_system, code) for code in ("1.1.1", "1.1.2", "2.1.1", "2.1.2", "3")]
    for leaf in leaves:
        leaf.system = small_system
    window = window_2024(small_system.campaign)
    make_report(period=period(2024, 1), unit=unit_a, task=3, state=APPROVED)
    with CaptureQueriesContext(connection) as few:
        scoring.hints_for(leaves, window)
    for number in (1, 2, 3):
        for p in (period(2024, 2), period(2024, 3)):
            for u in (unit_a, unit_b):
                if not ProgressReport.objects.filter(period=p, unit=u, task__number=number).exists():
                    add_file(make_report(period=p, unit=u, task=number, state=APPROVED))
    IndicatorLink.objects.filter(state=IndicatorLink.State.SUGGESTED).update(
        state=IndicatorLink.State.CONFIRMED
    )
    with CaptureQueriesContext(connection) as many:
        scoring.hints_for(leaves, window)
    assert len(many) == len(few)


# ---------------------------------------------------------------- the office's score


@pytest.mark.parametrize(
    "raw, words",
    [
        ("-1", "须在 0 到 15 分"),
        ("15.5", "须在 0 到 15 分"),
        ("12.345", "最多保留两位小数"),
        ("十二", "不是数字"),
        ("NaN", "不是数字"),
    ],
)
def test_score_out_of_bounds_is_refused_and_nothing_written(small_system, office_user, raw, words):
    leaf = node(small_system, "1.1.1")
    with pytest.raises(DomainError, match=words):
        scoring.score_save(indicator=leaf, by=office_user, score=raw, justification="理由", version=0)
    assert not IndicatorAccount.objects.exists() and not ScoreEntry.objects.exists()


def test_score_accepts_halves_two_decimals_and_full_width_digits(small_system, office_user):
    leaf = node(small_system, "1.1.1")
    assert scoring.parse_score("１２．５", leaf.points) == Decimal("12.50")
    assert scoring.parse_score("12.25分", leaf.points) == Decimal("12.25")
    assert scoring.parse_score(" ", leaf.points) is None
    row = scoring.score_save(indicator=leaf, by=office_user, score="0", justification="未开展", version=0)
    assert row.score == Decimal("0")


def test_justification_required_below_full_points_or_off_the_hint(small_system, office_user):
    leaf = node(small_system, "1.1.1")  # 15 points; no approved report → hint 0
    window = window_2024(small_system.campaign)
    assert scoring.hint_for(leaf, window).score == Decimal("0")
    with pytest.raises(DomainError, match="低于本指标分值 15 分，与系统建议分 0 分不同，请填写评分理由"):
        scoring.score_save(
            indicator=leaf, by=office_user, score="12", justification="  ", version=0, window=window
        )
    with pytest.raises(DomainError, match="与系统建议分 0 分不同"):
        scoring.score_save(
            indicator=leaf, by=office_user, score="15", justification="", version=0, window=window
        )
    with pytest.raises(DomainError, match="没有系统建议分"):
        scoring.score_save(
            indicator=node(small_system, "3"), by=office_user, score="30", justification="", version=0
        )
    assert not ScoreEntry.objects.exists()
    # full points that equal the hint need no reason
    assert not scoring.needs_justification(Decimal(15), Decimal(15), Decimal(15))
    assert scoring.needs_justification(Decimal(14), Decimal(14), Decimal(15))


def test_every_change_leaves_a_history_row(small_system, office_user):
    leaf = node(small_system, "2.1.1")
    window = window_2024(small_system.campaign)
    first = scoring.score_save(
        indicator=leaf, by=office_user, score="12", justification="阵地 6 处", version=0, window=window
    )
    same = scoring.score_save(
        indicator=leaf,
        by=office_user,
        score="12.00",
        justification="阵地 6 处",
        version=first.version,
        window=window,
    )
    assert same.version == first.version  # nothing changed: no new version, no new row
    second = scoring.score_save(
        indicator=leaf,
        by=office_user,
        score="14.5",
        justification="阵地 7 处",
        version=first.version,
        window=window,
    )
    cleared = scoring.score_save(
        indicator=leaf, by=office_user, score="", justification="", version=second.version, window=window
    )
    assert cleared.score is None
    history = scoring.score_history(leaf)
    assert [(e.score, e.hint, e.justification) for e in history] == [
        (None, Decimal("0.00"), ""),
        (Decimal("14.50"), Decimal("0.00"), "阵地 7 处"),
        (Decimal("12.00"), Decimal("0.00"), "阵地 6 处"),
    ]
    assert {e.by_id for e in history} == {office_user.pk}
    assert history[0].by_name == "张主任"


def test_stale_score_and_who_may_score(small_system, office_user, leadership_user, liaison_a):
    leaf = node(small_system, "2.1.1")
    scoring.score_save(indicator=leaf, by=office_user, score="10", justification="甲", version=0)
    with pytest.raises(StaleVersion):
        scoring.score_save(indicator=leaf, by=office_user, score="11", justification="乙", version=0)
    for user in (leadership_user, liaison_a):
        with pytest.raises(PermissionDenied):
            scoring.score_save(indicator=leaf, by=user, score="11", justification="乙", version=1)
    with pytest.raises(DomainError, match="上级指标"):
        scoring.score_save(
            indicator=node(small_system, "2.1"), by=office_user, score="1", justification="x", version=0
        )
    assert IndicatorAccount.objects.get(indicator=leaf).score == Decimal("10")
    assert ScoreEntry.objects.count() == 1


def test_score_page_refusal_keeps_what_was_typed(as_office, small_system):
    leaf = node(small_system, "2.1.1")
    url = f"/assessment/indicators/{leaf.pk}/score/"
    response = as_office.post(url, {"score": "25", "justification": "我写的评分理由", "version": 0})
    assert response.status_code == 400
    html = response.content.decode()
    assert "须在 0 到 20 分" in html and 'value="25"' in html and "我写的评分理由" in html
    hx = as_office.post(url, {"score": "18", "justification": "", "version": 0}, HTTP_HX_REQUEST="true")
    assert hx.status_code == 200 and "请填写评分理由" in hx.content.decode()
    ok = as_office.post(
        url, {"score": "18", "justification": "阵地 9 处", "version": 0}, HTTP_HX_REQUEST="true"
    )
    html = ok.content.decode()
    assert "自评得分已保存" in html and 'data-testid="score-history"' in html and "阵地 9 处" in html
    assert 'id="account-version" value="1" hx-swap-oob="true"' in html
    assert IndicatorAccount.objects.get(indicator=leaf).score == Decimal("18")


# ---------------------------------------------------------------- demo


def test_seed_scores_picks_scores_and_is_idempotent(small_system, office_user, unit_a, unit_b):
    for p in (period(2024, 1), period(2024, 2)):
        add_file(make_report(period=p, unit=unit_a, task=3, state=APPROVED))
        make_report(period=p, unit=unit_b, task=1, state=APPROVED)
    seeded = seed_scores(small_system)
    # the three confirmed-linked leaves (1.1.1, 1.1.2, 2.1.1) get accounts; 2.1.2 and 3 have no link
    assert seeded.accounts == 3
    assert seeded.scores == 3
    leaf = node(small_system, "2.1.1")
    assert [bool(p.report_id) for p in EvidencePick.objects.filter(indicator=leaf).order_by("order")] == [
        True,
        True,
        False,
        False,
    ]
    account = IndicatorAccount.objects.get(indicator=leaf)
    assert account.score == scoring.hint_for(leaf, scoring.hint_window(small_system.campaign)).score
    assert "演示" in account.account and account.justification
    assert ScoreEntry.objects.filter(indicator=leaf, by=office_user).count() == 1

    before = (EvidencePick.objects.count(), ScoreEntry.objects.count(), IndicatorAccount.objects.count())
    again = seed_scores(small_system)
    assert (again.picks, again.accounts, again.scores) == (0, 0, 0)
    assert (
        EvidencePick.objects.count(),
        ScoreEntry.objects.count(),
        IndicatorAccount.objects.count(),
    ) == before


def test_seed_scores_picks_each_kind_of_file_a_leaf_has(small_system, office_user, unit_a):
    def attach(report, content_type, name):
        return Evidence.objects.create(
            report=report, kind=Evidence.Kind.FILE, content_type=content_type, original_name=name, size=1
        )

    old = make_report(period=period(2024, 1), unit=unit_a, task=3, state=APPROVED)
    pdf = attach(old, "application/pdf", "会议纪要.pdf")
    word = attach(old, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "台账.docx")
    new = make_report(period=period(2024, 3), unit=unit_a, task=3, state=APPROVED)
    photos = [attach(new, "image/jpeg", f"照片{i}.jpg") for i in range(4)]

    seed_scores(small_system)

    picked = set(
        EvidencePick.objects.filter(
            indicator=node(small_system, "2.1.1"), evidence__isnull=False
        ).values_list("evidence_id", flat=True)
    )
    assert picked == {photos[0].pk, pdf.pk, word.pk}  # the newest photo, then the newest of each other kind
