"""From a parsed plan to a campaign: match the plan's unit names to units, preview, then write in one go.

``plan_preview(parsed=..., mapping=...)`` reads only; ``plan_import(parsed=..., mapping=..., by=...)``
writes the campaign, its phases, reporting periods, sections, tasks, responsibilities and targets in one
transaction. ``mapping`` holds the office's decision for each name that matched no unit:
``{"名称": {"action": "unit", "unit_id": 5}}``, ``{"action": "create", "code": "xxx", "kind": "department"}``
or ``{"action": "skip"}``. ``assignments`` holds the units the office assigned to tasks in the preview (for tasks
the plan leaves open, or to replace the named ones), by the task's position in ``parsed.tasks``:
``{0: {"lead": 5, "co": [7, 9]}}``; the plan-wide rule units (``rule_names``) still apply to those tasks.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max

from campaign.dates import quarter_of
from campaign.errors import DomainError, PermissionDenied
from campaign.models import Campaign, Phase, ReportingPeriod
from units.access import get_access
from units.models import Unit

from .importer import METRIC_INFO, ParsedPlan, ParsedTarget, ParsedTask
from .models import Metric, Responsibility, Section, Target, Task
from .services import plan_activate

Ref = int | str  # a Unit id, or "new:<name>" for a unit the office asked to create
CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")

# Full names as printed in some plans → the abbreviation units are usually registered under.
ABBREVIATIONS: list[tuple[str, str]] = [
    ("民族宗教事务委员会", "民宗委"),
    ("民族宗教事务局", "民宗局"),
    ("民族事务委员会", "民委"),
    ("发展和改革委员会", "发展改革委"),
    ("发改委", "发展改革委"),
    ("科学技术局", "科技局"),
    ("工业和信息化局", "工信局"),
    ("国家安全局", "国安局"),
    ("人力资源和社会保障局", "人社局"),
    ("住房和城乡建设局", "住建局"),
    ("文化广电和旅游局", "文旅局"),
    ("文化和旅游局", "文旅局"),
    ("卫生健康委员会", "卫生健康委"),
    ("卫健委", "卫生健康委"),
    ("应急管理局", "应急局"),
    ("市场监督管理局", "市场监管局"),
    ("林业和草原局", "林草局"),
    ("医疗保障局", "医保局"),
    ("国有资产监督管理委员会", "国资委"),
    ("政府国资委", "国资委"),
    ("金融工作办公室", "金融办"),
    ("政府金融办", "金融办"),
    ("统一战线工作部", "统战部"),
    ("政法委员会", "政法委"),
    ("网络安全和信息化委员会办公室", "网信办"),
    ("直属机关工作委员会", "直属机关工委"),
    ("市直机关工委", "市委直属机关工委"),
    ("巡察工作领导小组办公室", "巡察办"),
    ("共青团市委", "团市委"),
    ("文学艺术界联合会", "文联"),
    ("社会科学界联合会", "社科联"),
    ("科学技术协会", "科协"),
    ("工商业联合会", "工商联"),
    ("融媒体中心", "融媒体中心"),
]
# What a responsibility clause appends to a place's name: the place's party committee and government.
GOVERNMENT_SUFFIXES = (
    "党委和人民政府",
    "党委和政府",
    "党委、政府",
    "党委政府",
    "党工委和管委会",
    "党工委、管委会",
    "人民政府",
)
ALL_COUNTIES = re.compile(r"各县\((?:市、?区|区、?市|市|区)\)|各县市区|各县区|各县市")


@dataclass
class NameMatch:
    raw: str
    refs: list[Ref]
    how: str  # shown in the preview: 名称一致 / 简称或全称 / 全部县(市、区) / 人工指定 / 新建 / 忽略
    is_group: bool = False


@dataclass
class ResponsibilityRow:
    ref: Ref
    role: str  # "lead" | "co"
    by_rule: bool


@dataclass
class TargetRow:
    target: ParsedTarget
    refs: list[Ref]


@dataclass
class TaskRow:
    task: ParsedTask
    responsibilities: list[ResponsibilityRow]
    targets: list[TargetRow]


Assignments = dict[int, dict]  # task index → {"lead": unit id, "co": [unit ids]}


@dataclass
class Preview:
    parsed: ParsedPlan
    matches: dict[str, NameMatch]
    unmatched: list[str]  # names with no unit and no decision yet
    tasks: list[TaskRow]
    labels: dict[Ref, str]
    periods: list[tuple[int, int]]
    starts_on: dt.date | None
    ends_on: dt.date | None
    notices: list[str] = field(default_factory=list)
    assigned: set[int] = field(default_factory=set)  # indexes of tasks whose units the office assigned

    @property
    def open_tasks(self) -> list[int]:
        """Indexes of tasks that would be imported with no responsible unit at all."""
        return [i for i, row in enumerate(self.tasks) if not row.responsibilities]

    @property
    def responsibility_count(self) -> int:
        return sum(len(t.responsibilities) for t in self.tasks)

    @property
    def target_count(self) -> int:
        return sum(len(t.targets) for t in self.tasks)


# --------------------------------------------------------------------------------------------------
# Matching names


def name_key(name: str, city: str = "") -> str:
    """A form of a unit name in which the ways plans write the same unit agree."""
    s = name.replace("（", "(").replace("）", ")").replace(" ", "").replace("\u3000", "")
    s = re.sub(r"^中共", "", s)
    if city and s.startswith(city):
        s = ("市" if city.endswith("市") else "") + s[len(city) :]
    for suffix in GOVERNMENT_SUFFIXES:
        if s.endswith(suffix) and len(s) > len(suffix):
            s = s[: -len(suffix)]
            break
    for long, short in ABBREVIATIONS:
        s = s.replace(long, short)
    return s


def _without_brackets(s: str) -> str:
    return re.sub(r"\([^()]*\)", "", s)


class UnitDirectory:
    """The active units, indexed the ways a plan may name them. Loaded once per preview or import."""

    def __init__(self, city: str = ""):
        self.city = city
        self.units = list(Unit.objects.filter(is_active=True).order_by("order", "id"))
        self.by_id = {u.id: u for u in self.units}
        self.exact: dict[str, Unit] = {}
        self.keyed: dict[str, list[Unit]] = {}
        self.loose: dict[str, list[Unit]] = {}
        for unit in self.units:
            for name in filter(None, (unit.name, unit.short_name)):
                plain = name.replace("（", "(").replace("）", ")")
                self.exact.setdefault(plain, unit)
                key = name_key(name, city)
                self.keyed.setdefault(key, []).append(unit)
                self.loose.setdefault(_without_brackets(key), []).append(unit)
        self.counties = [u for u in self.units if u.kind == Unit.Kind.COUNTY]

    def match(self, raw: str) -> NameMatch | None:
        plain = raw.replace("（", "(").replace("）", ")")
        if plain in self.exact:
            return NameMatch(raw, [self.exact[plain].id], "名称一致")
        key = name_key(raw, self.city)
        found = list(dict.fromkeys(self.keyed.get(key, [])))
        if len(found) == 1:
            return NameMatch(raw, [found[0].id], "简称或全称一致")
        found = list(dict.fromkeys(self.loose.get(_without_brackets(key), [])))
        if len(found) == 1:
            return NameMatch(raw, [found[0].id], "去掉括号内容后一致")
        if ALL_COUNTIES.fullmatch(key) and self.counties:
            return NameMatch(raw, [u.id for u in self.counties], "全部县(市、区)", is_group=True)
        return None

    def group(self, target: ParsedTarget, covered: set[Ref]) -> list[Ref]:
        if target.unit_group == "all_counties":
            return [u.id for u in self.counties]
        if target.unit_group == "districts":
            return [u.id for u in self.counties if u.name.endswith("区")]
        if target.unit_group == "others":
            return [
                u.id
                for u in self.counties
                if u.id not in covered and any(u.name.endswith(s) for s in target.group_suffixes)
            ]
        return []


def match_names(parsed: ParsedPlan, mapping: dict | None = None, directory: UnitDirectory | None = None):
    """Every name in the plan → its units; and the names still waiting for the office's decision."""
    directory = directory or UnitDirectory(parsed.city)
    mapping = mapping or {}
    matches: dict[str, NameMatch] = {}
    unmatched: list[str] = []
    for raw in parsed.all_names:
        found = directory.match(raw)
        if found:
            matches[raw] = found
            continue
        choice = mapping.get(raw)
        action = (choice or {}).get("action")
        if action == "unit" and choice.get("unit_id") in directory.by_id:
            matches[raw] = NameMatch(raw, [choice["unit_id"]], "人工指定")
        elif action == "create":
            matches[raw] = NameMatch(raw, [f"new:{raw}"], "新建")
        elif action == "skip":
            matches[raw] = NameMatch(raw, [], "忽略")
        else:
            unmatched.append(raw)
    return matches, unmatched


# --------------------------------------------------------------------------------------------------
# The rows to write


def assignment_clean(*, lead: int | None, co: list[int], directory: UnitDirectory) -> dict:
    """The office's assignment of units to a task in the preview, checked: one lead, co units without it."""
    if lead is None:
        raise DomainError("请选择一个牵头单位：每项任务有且只有一个牵头单位。")
    unknown = [ref for ref in [lead, *co] if ref not in directory.by_id]
    if unknown:
        raise DomainError("所选单位不存在或已停用，请刷新页面后重新选择。")
    return {"lead": lead, "co": [ref for ref in dict.fromkeys(co) if ref != lead]}


def _task_rows(
    parsed: ParsedPlan,
    matches: dict[str, NameMatch],
    directory: UnitDirectory,
    assignments: Assignments | None = None,
) -> list[TaskRow]:
    assignments = assignments or {}
    rows = []
    for index, task in enumerate(parsed.tasks):
        named: list[Ref] = []
        lead: Ref | None = None
        assigned = assignments.get(index)
        if assigned is not None:
            checked = assignment_clean(
                lead=assigned.get("lead"), co=assigned.get("co", []), directory=directory
            )
            lead, named = checked["lead"], [checked["lead"], *checked["co"]]
        for i, name in enumerate(task.names if assigned is None else []):
            found = matches.get(name)
            if not found or not found.refs:
                continue
            # The first named unit leads; a group of units ("各县(市、区)…") named first has no single lead.
            if i == 0 and not found.is_group and len(found.refs) == 1:
                lead = found.refs[0]
            named += found.refs
        named = list(dict.fromkeys(named))
        by_rule: list[Ref] = []
        for name in task.rule_names:
            found = matches.get(name)
            by_rule += [r for r in (found.refs if found else []) if r not in named]
        by_rule = list(dict.fromkeys(by_rule))
        responsibilities = [ResponsibilityRow(ref, "lead" if ref == lead else "co", False) for ref in named]
        responsibilities += [ResponsibilityRow(ref, "co", True) for ref in by_rule]

        targets = []
        covered: dict[str, set[Ref]] = {}
        for target in task.targets:
            refs: list[Ref] = []
            for name in target.unit_names:
                found = matches.get(name)
                refs += found.refs if found else []
            refs += directory.group(target, covered.get(target.metric_code, set()))
            refs = list(dict.fromkeys(refs))
            covered.setdefault(target.metric_code, set()).update(refs)
            targets.append(TargetRow(target, refs))
        rows.append(TaskRow(task, responsibilities, targets))
    return rows


def _quarters(starts_on: dt.date, ends_on: dt.date) -> list[tuple[int, int]]:
    """The quarters that begin within the campaign: reporting starts with the first full quarter."""
    year, quarter = quarter_of(starts_on)
    out = []
    while True:
        first_day = dt.date(year, 3 * (quarter - 1) + 1, 1)
        if first_day > ends_on:
            break
        if first_day >= starts_on:
            out.append((year, quarter))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return out


def plan_preview(
    *,
    parsed: ParsedPlan,
    mapping: dict | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    assignments: Assignments | None = None,
) -> Preview:
    """What an import would create, without writing anything."""
    directory = UnitDirectory(parsed.city)
    matches, unmatched = match_names(parsed, mapping, directory)
    labels: dict[Ref, str] = {u.id: u.name for u in directory.units}
    for found in matches.values():
        for ref in found.refs:
            if isinstance(ref, str):
                labels[ref] = f"{ref[4:]}（新建）"
    starts_on = starts_on or parsed.starts_on
    ends_on = ends_on or parsed.ends_on
    notices = []
    if Campaign.objects.filter(document_title=parsed.document_title).exists():
        notices.append(
            f"系统中已有依据《{parsed.document_title}》建立的创建活动，确认后将另建一个新的创建活动。"
        )
    periods = _quarters(starts_on, ends_on) if starts_on and ends_on and starts_on <= ends_on else []
    return Preview(
        parsed=parsed,
        matches=matches,
        unmatched=unmatched,
        tasks=_task_rows(parsed, matches, directory, assignments),
        labels=labels,
        periods=periods,
        starts_on=starts_on,
        ends_on=ends_on,
        notices=notices,
        assigned=set(assignments or {}),
    )


# --------------------------------------------------------------------------------------------------
# Writing


def _check_mapping(mapping: dict, matches: dict[str, NameMatch], unmatched: list[str]) -> dict[str, dict]:
    if unmatched:
        raise DomainError(
            "以下单位名称还没有对应到系统中的单位："
            + "、".join(unmatched)
            + "。请为每个名称选择已有单位、新建单位或忽略。"
        )
    creates = {raw: mapping[raw] for raw, found in matches.items() if found.how == "新建"}
    codes = set(Unit.objects.values_list("code", flat=True))
    names = set(Unit.objects.values_list("name", flat=True))
    seen: set[str] = set()
    for raw, choice in creates.items():
        code = (choice.get("code") or "").strip()
        name = (choice.get("name") or raw).strip()
        if not CODE.match(code):
            raise DomainError(
                f"新建单位“{name}”的代码“{code}”无效：只能使用小写英文字母、数字和短横线，最长40个字符。"
            )
        if code in codes or code in seen:
            raise DomainError(f"新建单位“{name}”的代码“{code}”已被使用，请换一个。")
        if name in names:
            raise DomainError(f"单位“{name}”已存在，请选择“对应到已有单位”而不是新建。")
        if choice.get("kind", Unit.Kind.DEPARTMENT) not in Unit.Kind.values:
            raise DomainError(f"新建单位“{name}”的类别无效。")
        seen.add(code)
    return creates


def plan_import(
    *,
    parsed: ParsedPlan,
    mapping: dict | None,
    by: AbstractBaseUser | None,
    activate: bool = False,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    assignments: Assignments | None = None,
) -> Campaign:
    """Creates a new campaign from ``parsed``; all or nothing. ``by`` is None only from the command line."""
    if by is not None and not get_access(by).is_office:
        raise PermissionDenied("只有创建办工作人员可以导入实施方案。")
    if not parsed.tasks:
        raise DomainError("实施方案中没有可导入的任务。")
    mapping = mapping or {}
    starts_on = starts_on or parsed.starts_on
    ends_on = ends_on or parsed.ends_on
    if not starts_on or not ends_on:
        raise DomainError("未能从方案中识别创建活动的起止日期，请填写开始日期和结束日期。")
    if starts_on > ends_on:
        raise DomainError("创建活动的开始日期不能晚于结束日期。")

    with transaction.atomic():
        directory = UnitDirectory(parsed.city)
        matches, unmatched = match_names(parsed, mapping, directory)
        creates = _check_mapping(mapping, matches, unmatched)
        rows = _task_rows(parsed, matches, directory, assignments)

        units: dict[Ref, Unit] = dict(directory.by_id)
        next_order = (Unit.objects.aggregate(m=Max("order"))["m"] or 0) + 10
        for raw, choice in creates.items():
            units[f"new:{raw}"] = Unit.objects.create(
                code=choice["code"].strip(),
                name=(choice.get("name") or raw).strip(),
                kind=choice.get("kind") or Unit.Kind.DEPARTMENT,
                order=next_order,
            )
            next_order += 10

        office = None
        if parsed.mentions_office:
            office = Unit.objects.filter(name="创建工作办公室").first()
        campaign = Campaign.objects.create(
            title=parsed.title[:200],
            city=parsed.city[:50],
            document_title=parsed.document_title[:200],
            issued_on=parsed.issued_on,
            goal=parsed.import_goal,
            starts_on=starts_on,
            ends_on=ends_on,
            office_unit=office,
            is_active=False,
        )
        Phase.objects.bulk_create(
            Phase(
                campaign=campaign,
                order=p.order,
                name=p.name,
                starts_on=p.starts_on,
                ends_on=p.ends_on,
                description=p.description,
            )
            for p in parsed.phases
        )
        periods = []
        for year, quarter in _quarters(starts_on, ends_on):
            first, last, due = ReportingPeriod.bounds_for(year, quarter)
            periods.append(
                ReportingPeriod(
                    campaign=campaign, year=year, quarter=quarter, starts_on=first, ends_on=last, due_on=due
                )
            )
        ReportingPeriod.objects.bulk_create(periods)

        sections = {
            s.order: Section.objects.create(
                campaign=campaign, order=s.order, numeral=s.numeral, title=s.title, short_title=s.short_title
            )
            for s in parsed.sections
        }
        metrics = _metrics({t.metric_code for row in rows for t in row.task.targets})

        responsibilities = []
        for row in rows:
            task = Task.objects.create(
                campaign=campaign,
                section=sections[row.task.section_order],
                number=row.task.number,
                title=row.task.title,
                text=row.task.import_text,
            )
            for order, r in enumerate(row.responsibilities, start=1):
                responsibilities.append(
                    Responsibility(task=task, unit=units[r.ref], role=r.role, order=order, by_rule=r.by_rule)
                )
            for order, t in enumerate(row.targets, start=1):
                target = Target.objects.create(
                    task=task,
                    metric=metrics[t.target.metric_code],
                    value=t.target.value,
                    comparison=t.target.comparison,
                    scope=t.target.scope,
                    scope_label=t.target.scope_label[:60],
                    period_kind=t.target.period_kind,
                    due_on=t.target.due_on or (ends_on if t.target.period_kind == "by_date" else None),
                    source_text=t.target.source_text[:300],
                    order=order,
                )
                if t.refs:
                    target.units.set([units[ref] for ref in t.refs])
        Responsibility.objects.bulk_create(responsibilities)
        if activate:
            campaign = plan_activate(campaign=campaign, by=by)
    return campaign


def _metrics(codes: set[str]) -> dict[str, Metric]:
    """Existing metrics by code; the ones a plan needs and the portal lacks are created."""
    metrics = {m.code: m for m in Metric.objects.filter(code__in=codes)}
    order = (Metric.objects.aggregate(m=Max("order"))["m"] or 0) + 10
    for code in sorted(codes - set(metrics)):
        name, uom, _ = METRIC_INFO[code]
        metrics[code] = Metric.objects.create(code=code, name=name, unit_of_measure=uom, order=order)
        order += 10
    return metrics


def suggest_code(name: str, taken: set[str]) -> str:
    """An ASCII code for a new unit; the office may type a better one."""
    base = "unit"
    n = 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
