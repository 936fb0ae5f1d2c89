"""A leaf's page (its candidates, picks, office files, account and score) and the system's score dashboard.
Thin: parse, call ``picks`` / ``scoring``, render. Every action works with HTMX (the changed box is swapped in
place) and without it (a redirect back to the page, or the page again with the refusal and the typed text)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from campaign.decorators import office_required, readers_required
from campaign.errors import DomainError, NotFound, PermissionDenied, StaleVersion
from campaign.redirects import redirect_next
from sites.models import Site
from units.access import get_access
from units.models import display_name

from . import picks, scoring
from .access import can_edit
from .models import Indicator, IndicatorSystem
from .scoring_forms import AccountForm, OfficeFileForm, ScoreForm

TEMPLATES = "assessment/indicator/"
UNSET = object()  # "not read yet": an account of None means the leaf has none


def _window(request, indicator: Indicator) -> scoring.HintWindow:
    params = request.POST if request.method == "POST" else request.GET
    return scoring.hint_window(indicator.system.campaign, first=params.get("from"), last=params.get("to"))


def _score_context(request, indicator: Indicator, *, account=UNSET, form=None, error="", saved=False) -> dict:
    window = _window(request, indicator)
    account = picks.account_of(indicator) if account is UNSET else account
    version = account.version if account is not None else 0
    if form is None:
        form = ScoreForm(
            initial={
                "score": scoring.points_text(account.score) if account and account.score is not None else "",
                "justification": account.justification if account else "",
                "version": version,
            }
        )
    return {
        "indicator": indicator,
        "window": window,
        "window_periods": window.choices,
        "hint": scoring.hint_for(indicator, window),
        "hint_rule": scoring.HINT_RULE,
        "account": account,
        "version": version,
        "score_form": form,
        "score_error": error,
        "score_saved": saved,
        "history": scoring.score_history(indicator),
        "can_edit": can_edit(get_access(request.user)),
    }


def _account_context(
    request, indicator, *, account=UNSET, form=None, error="", theirs=None, saved=False
) -> dict:
    account = picks.account_of(indicator) if account is UNSET else account
    version = account.version if account is not None else 0
    if form is None:
        form = AccountForm(initial={"account": account.account if account else "", "version": version})
    return {
        "indicator": indicator,
        "account": account,
        "version": version,
        "account_form": form,
        "account_error": error,
        "account_theirs": theirs,
        "account_saved": saved,
        "account_by": display_name(account.updated_by) if account and account.updated_by else "",
        "can_edit": can_edit(get_access(request.user)),
    }


def _picks_context(request, indicator, *, error: str = "") -> dict:
    chosen = picks.picks_of(indicator)
    return {
        "indicator": indicator,
        "picks": chosen,
        "picked": picks.picked_keys(chosen),
        "counted": picks.counted_ids(indicator),
        "picks_error": error,
        "can_edit": can_edit(get_access(request.user)),
    }


def _files_context(request, indicator, *, form=None, error: str = "") -> dict:
    return {
        "indicator": indicator,
        "office_files": picks.office_files_of(indicator),
        "file_form": form or OfficeFileForm(),
        "file_error": error,
        "can_edit": can_edit(get_access(request.user)),
    }


def _candidates_context(request, indicator, picked: set) -> dict:
    choices = picks.filter_choices(indicator)
    filters = picks.CandidateFilters.parse(
        request.GET, periods=choices.periods, units=choices.units, counties=choices.counties
    )
    candidates = picks.candidates_page(indicator, filters=filters, page=request.GET.get("page") or 1)
    for report in candidates:
        report.is_picked = ("report", report.pk) in picked
        for evidence in report.evidence.all():
            evidence.is_picked = ("evidence", evidence.pk) in picked
    site_filters = picks.SiteFilters.parse(request.GET, counties=choices.counties)
    sites = picks.site_candidates_page(indicator, filters=site_filters, page=request.GET.get("s_page") or 1)
    for site in sites:
        site.is_picked = ("site", site.pk) in picked
    return {
        "choices": choices,
        "filters": filters,
        "candidates": candidates,
        "picked": picked,
        "links": picks.confirmed_links(indicator),
        "site_filters": site_filters,
        "site_scopes": picks.SiteFilters.SCOPES,
        "site_levels": Site.Level.choices,
        "site_candidates": sites,
        # what the sites form carries over (the report filters and the hint window), and the reverse
        "keep_for_sites": [(k, v) for k, v in request.GET.items() if not k.startswith("s_")],
        "keep_for_reports": [(k, v) for k, v in request.GET.items() if k.startswith("s_") and k != "s_page"],
    }


def _page(request, indicator: Indicator, *, status: int = 200, **boxes):
    """The whole leaf page; ``boxes`` replace a box's context (a refused save shows the typed text)."""
    context = {
        "system": indicator.system,
        "active": "scores",
        "indicator": indicator,
        "ancestors": _ancestors(indicator),
        "here": request.get_full_path(),
    }
    account = picks.account_of(indicator)
    context |= boxes.get("score") or _score_context(request, indicator, account=account)
    context |= boxes.get("account") or _account_context(request, indicator, account=account)
    context |= _picks_context(request, indicator)
    context |= boxes.get("files") or _files_context(request, indicator)
    context |= _candidates_context(request, indicator, context["picked"])
    return render(request, TEMPLATES + "page.html", context, status=status)


def _ancestors(indicator: Indicator) -> list[Indicator]:
    """The indicator's parent and grandparent (three levels at most), loaded with it by ``indicator_for``."""
    chain = []
    node = indicator.parent
    while node is not None and len(chain) < Indicator.MAX_LEVEL:
        chain.append(node)
        node = node.parent if node.parent_id else None
    return list(reversed(chain))


def _leaf(request, pk) -> Indicator:
    indicator = picks.indicator_for(user=request.user, pk=pk)
    picks.require_leaf(indicator)
    return indicator


def _fragment(request, template: str, context: dict, *extra: tuple[str, dict]) -> HttpResponse:
    """A box for HTMX, with other boxes swapped out of band (``extra``: template, context)."""
    html = render_to_string(TEMPLATES + template, context, request=request)
    for name, ctx in extra:
        html += render_to_string(TEMPLATES + name, ctx | {"oob": True}, request=request)
    return HttpResponse(html)


def _back(request, indicator: Indicator):
    return redirect_next(request, "assessment:indicator", indicator.pk)


# ---------------------------------------------------------------- the leaf's page


@readers_required
def indicator_page(request, pk: int):
    indicator = picks.indicator_for(user=request.user, pk=pk)
    if not picks.is_leaf(indicator):
        children = list(Indicator.objects.filter(parent=indicator).order_by("order", "id"))
        return render(
            request,
            TEMPLATES + "branch.html",
            {
                "system": indicator.system,
                "active": "scores",
                "indicator": indicator,
                "children": children,
                "ancestors": _ancestors(indicator),
            },
        )
    return _page(request, indicator)


@require_POST
@office_required
def account_save(request, pk: int):
    indicator = _leaf(request, pk)
    form = AccountForm(request.POST)
    try:
        account = picks.account_save(
            indicator=indicator,
            by=request.user,
            account=request.POST.get("account", ""),
            version=request.POST.get("version"),
        )
    except (PermissionDenied, NotFound):
        raise
    except StaleVersion as error:
        # Nothing written: the typed text stays, the saved one is shown beside it, and the next save is
        # made against the current version (the person decides, nothing is overwritten silently).
        theirs = picks.account_of(indicator)
        data = request.POST.copy()
        data["version"] = theirs.version if theirs else 0
        box = _account_context(
            request, indicator, account=theirs, form=AccountForm(data), error=error.message, theirs=theirs
        )
        return _refused(request, indicator, "account", box, status=409)
    except DomainError as error:
        box = _account_context(request, indicator, form=form, error=error.message)
        return _refused(request, indicator, "account", box, status=400)
    if request.htmx:
        return _fragment(
            request,
            "_account.html",
            _account_context(request, indicator, account=account, saved=True),
            ("_version.html", {"box": "score", "version": account.version}),
        )
    messages.success(request, "情况说明已保存。")
    return _back(request, indicator)


@require_POST
@office_required
def score_save(request, pk: int):
    indicator = _leaf(request, pk)
    window = _window(request, indicator)
    form = ScoreForm(request.POST)
    try:
        account = scoring.score_save(
            indicator=indicator,
            by=request.user,
            score=request.POST.get("score", ""),
            justification=request.POST.get("justification", ""),
            version=request.POST.get("version"),
            window=window,
        )
    except (PermissionDenied, NotFound):
        raise
    except StaleVersion as error:
        theirs = picks.account_of(indicator)
        data = request.POST.copy()
        data["version"] = theirs.version if theirs else 0
        box = _score_context(request, indicator, account=theirs, form=ScoreForm(data), error=error.message)
        return _refused(request, indicator, "score", box, status=409)
    except DomainError as error:
        box = _score_context(request, indicator, form=form, error=error.message)
        return _refused(request, indicator, "score", box, status=400)
    if request.htmx:
        return _fragment(
            request,
            "_score.html",
            _score_context(request, indicator, account=account, saved=True),
            ("_version.html", {"box": "account", "version": account.version}),
        )
    messages.success(request, "自评得分已保存。")
    return _back(request, indicator)


def _refused(request, indicator, box: str, context: dict, *, status: int):
    """A refused save: with HTMX the box again (status 200, so htmx swaps it) with the message and the typed
    text; without, the whole page with them."""
    if request.htmx:
        return _fragment(request, f"_{box}.html", context)
    return _page(request, indicator, status=status, **{box: context})


# ---------------------------------------------------------------- picks


def _pick_buttons(indicator: Indicator, picked: set, *items: tuple[str, int]) -> list[tuple[str, dict]]:
    """The candidates' pick buttons of ``items`` again (out of band), saying whether each is picked now."""
    return [
        (
            "_pick_button.html",
            {
                "indicator": indicator,
                "kind": kind,
                "item_id": item_id,
                "is_picked": (kind, item_id) in picked,
            },
        )
        for kind, item_id in items
    ]


@require_POST
@office_required
def pick_add(request, pk: int):
    indicator = _leaf(request, pk)
    report_id = request.POST.get("report") or None
    evidence_id = request.POST.get("evidence") or None
    file_id = request.POST.get("file") or None
    site_id = request.POST.get("site") or None
    error = ""
    try:
        picks.pick_add(
            indicator=indicator,
            by=request.user,
            report_id=report_id,
            evidence_id=evidence_id,
            office_file_id=file_id,
            site_id=site_id,
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        error = exc.message
    if request.htmx:
        context = _picks_context(request, indicator, error=error)
        items = [
            (k, int(v))
            for k, v in (("report", report_id), ("evidence", evidence_id), ("site", site_id))
            if v and v.isdigit()
        ]
        return _fragment(
            request, "_picks.html", context, *_pick_buttons(indicator, context["picked"], *items)
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "已加入申报材料。")
    return _back(request, indicator)


def _pick_action(request, pk: int, action) -> HttpResponse:
    pick = picks.pick_for(user=request.user, pk=pk)
    indicator = picks.indicator_for(user=request.user, pk=pick.indicator_id)
    item = picks.pick_key(pick)
    error = ""
    try:
        action(pick)
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        error = exc.message
    if request.htmx:
        context = _picks_context(request, indicator, error=error)
        # the candidate's button again (an office file has none: its own box lists it)
        extra = _pick_buttons(indicator, context["picked"], item) if item[0] != "file" else []
        return _fragment(request, "_picks.html", context, *extra)
    if error:
        messages.error(request, error)
    return _back(request, indicator)


@require_POST
@office_required
def pick_remove(request, pk: int):
    return _pick_action(request, pk, lambda pick: picks.pick_remove(pick=pick, by=request.user))


@require_POST
@office_required
def pick_move(request, pk: int):
    direction = request.POST.get("direction", "")
    return _pick_action(
        request, pk, lambda pick: picks.pick_move(pick=pick, by=request.user, direction=direction)
    )


@require_POST
@office_required
def picks_reorder(request, pk: int):
    indicator = _leaf(request, pk)
    error = ""
    try:
        picks.picks_reorder(indicator=indicator, by=request.user, pick_ids=request.POST.getlist("pick"))
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        error = exc.message
    if request.htmx:
        return _fragment(request, "_picks.html", _picks_context(request, indicator, error=error))
    if error:
        messages.error(request, error)
    return _back(request, indicator)


# ---------------------------------------------------------------- office files


def _files_and_picks(request, indicator: Indicator) -> HttpResponse:
    """After an office file is added or removed: its box, and the picks box out of band (the file's pick)."""
    return _fragment(
        request,
        "_files.html",
        _files_context(request, indicator),
        ("_picks.html", _picks_context(request, indicator)),
    )


@require_POST
@office_required
def office_file_add(request, pk: int):
    indicator = _leaf(request, pk)
    form = OfficeFileForm(request.POST, request.FILES)
    upload = request.FILES.get("file")
    try:
        office_file = picks.office_file_add(
            indicator=indicator, by=request.user, upload=upload, caption=request.POST.get("caption", "")
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as error:
        # The caption stays; a browser cannot fill a file input again, so the file is chosen again.
        message = (
            f"{error.message}（文件没有保存，请重新选择文件。）" if upload is not None else error.message
        )
        box = _files_context(request, indicator, form=form, error=message)
        if request.htmx:
            return _fragment(request, "_files.html", box)
        return _page(request, indicator, status=400, files=box)
    if request.htmx:
        return _files_and_picks(request, indicator)
    messages.success(request, f"已上传“{office_file.original_name}”并加入申报材料。")
    return _back(request, indicator)


@require_POST
@office_required
def office_file_remove(request, pk: int):
    office_file = picks.office_file_for(user=request.user, pk=pk)
    indicator = picks.indicator_for(user=request.user, pk=office_file.indicator_id)
    name = office_file.original_name
    picks.office_file_remove(office_file=office_file, by=request.user)
    if request.htmx:
        return _files_and_picks(request, indicator)
    messages.success(request, f"已删除“{name}”。")
    return _back(request, indicator)


@readers_required
@xframe_options_sameorigin
def office_file_download(request, pk: int):
    """Office files are served only to the office and leadership (never from a public media URL)."""
    office_file = picks.office_file_for(user=request.user, pk=pk)
    if not office_file.file:
        raise NotFound("文件不存在。")
    inline = office_file.content_type.startswith("image/") or office_file.content_type == "application/pdf"
    try:
        handle = office_file.file.open("rb")
    except FileNotFoundError:
        raise NotFound("文件已不在服务器上，请重新上传。") from None
    response = FileResponse(
        handle,
        content_type=office_file.content_type,
        as_attachment=not inline,
        filename=office_file.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------- the dashboard


@readers_required
def scores_page(request, pk: int):
    system = get_object_or_404(IndicatorSystem.objects.select_related("campaign"), pk=pk)
    window = scoring.hint_window(system.campaign, first=request.GET.get("from"), last=request.GET.get("to"))
    board = scoring.score_board(system, window)
    return render(
        request,
        "assessment/scores/page.html",
        {
            "system": system,
            "active": "scores",
            "board": board,
            "window": window,
            "window_periods": window.choices,
            "window_query": urlencode(window.query()),
            "hint_rule": scoring.HINT_RULE,
            "cheapest_rule": scoring.CHEAPEST_RULE,
            "can_edit": can_edit(get_access(request.user)),
        },
    )
