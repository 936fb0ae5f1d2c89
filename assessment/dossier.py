"""The 申报 dossier: what goes into it, read once, and its place among the compiled documents.

The dossier is a compilation kind (``reports.compilations.kinds``) registered by ``apps.AssessmentConfig.ready``:
``{"kind": "dossier", "format": "pdf"|"zip", "system": ID}``. The office asks for it (``access.can_edit``);
leadership sees and downloads the finished files as every other compilation.

Both files walk the same sections: each leaf of the system in tree order, with the branches (一级 / 二级) that
open with it, its account and score, and the picked evidence in the office's order (``dossier_sections``). The
PDF is ``dossier_pdf``, the zip ``dossier_zip``; both keep their finished parts in a work directory keyed by the
compilation's id (``work_dir``), so a run that dies (a worker killed, the time limit) is resumed by the next run
of the same row instead of starting again, and remove it when the file is made.

A picked report (or a file of one) counts only while the report is approved: a report reopened after it was
picked is a draft again and is neither printed nor shown to an evaluator (``inspector`` reads the same items).
A picked 示范点 (from the site register) counts only while it is named as of today (``sites.selectors.sites_as_of``,
the register's one rule): merged into another or never approved, it drops out. A site pick opens into several
items (``items_of``): the site's card (category, level, naming date, county, unit, address) and then its files —
the naming document, its photos and its other files — numbered under the pick (3-1, 3-2, …).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db.models import Prefetch, Q
from django.db.models.fields.files import FieldFile
from django.utils.functional import cached_property

from campaign.errors import DomainError
from reports.compilations import kinds
from reports.evidence import download_name, human_size, stored_kind
from reports.models import Evidence, ProgressReport
from sites.models import Site, SiteFile, SitePhoto
from sites.selectors import sites_as_of

from .models import EvidencePick, Indicator, IndicatorAccount, IndicatorSystem
from .selectors import Node, indicator_tree

KIND = "dossier"
LABEL = "申报材料"
HELP = "申报材料需选择指标体系（PDF 为公文格式的申报材料，ZIP 为入卷原始文件及台账）"
REFUSAL = "只有创建办可以生成申报材料；领导可在“汇编下载”中查看和下载已生成的申报材料。"

# Folder and file names in the zip: characters Windows, macOS and the zip tools refuse or misread, and lengths
# that keep a full path (two folders and a file) well under Windows' 260 characters.
UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
FOLDER_MAX = 40
FILE_MAX = 80
CUT_PUNCTUATION = "，、；：。,;:（(“‘《"  # not left dangling where a name was cut


# ------------------------------------------------------------------------------------------ the kind


def resolve_system(value, *, by) -> kinds.Subject:
    """The system a request names: a clear 400 when the id is malformed, names nothing, or the system has no
    indicators to file evidence under."""
    try:
        pk = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError(f"指标体系编号无效：{value}", code="invalid_scope") from None
    system = IndicatorSystem.objects.select_related("campaign").filter(pk=pk).first()
    if system is None:
        raise DomainError(f"指标体系不存在（编号 {pk}）。", code="not_found")
    if not Indicator.objects.filter(system=system).exists():
        raise DomainError(f"指标体系“{system.name}”还没有指标，无法生成申报材料。", code="invalid_scope")
    return kinds.Subject(pk=system.pk, campaign=system.campaign, label=system_label(system))


def system_label(system: IndicatorSystem) -> str:
    return f"《{system.name}》"


def system_labels(ids: Iterable[int]) -> dict[int, str]:
    return {
        s.pk: system_label(s) for s in IndicatorSystem.objects.filter(pk__in=list(ids)).only("pk", "name")
    }


def system_options() -> list[tuple[int, str]]:
    return [(s.pk, s.name) for s in IndicatorSystem.objects.filter(is_active=True).only("pk", "name")]


# --------------------------------------------------------------------------------------- the sections


class NamingDocument:
    """A named site's 命名文件 — the document of the naming ``sites_as_of`` finds current, the same naming the
    card's level and date come from — as a file holder, read as an ``Evidence`` or an ``OfficeFile`` is
    (``file``, ``content_type``, ``size``, ``sha256``, ``caption``, ``uploaded_at``). Its ``pk`` is the site's."""

    def __init__(self, site: Site, stored: str, original: str):
        self.site = site
        self.pk = site.pk
        self.file = FieldFile(site, Site._meta.get_field("naming_document"), stored)
        self.original_name = original or "命名文件"
        self.caption = "命名文件"
        self.uploaded_at = site.updated_at
        self.sha256 = ""  # not stored for naming documents; the zip computes it as it copies

    @property
    def content_type(self) -> str:
        kind = stored_kind(self.file.name)
        return kind.content_type if kind is not None else "application/octet-stream"

    @cached_property
    def size(self) -> int:
        try:
            return self.file.size if self.file else 0
        except OSError:
            return 0


@dataclass(frozen=True)
class SiteFacts:
    """A picked site as of today, by the register's rule (``sites_as_of``): its current naming's level, date
    and document."""

    level: str
    named_on: object  # a date, or None
    document: str = ""  # the stored name
    document_name: str = ""


@dataclass
class Item:
    """One picked thing, numbered within its leaf in the office's order. A site pick is one card item
    (``sub`` 0) followed by an item per file of the site (``sub`` 1, 2, … with ``file_holder`` set)."""

    number: int
    pick: EvidencePick
    sub: int = 0
    file_holder: object | None = None  # a site's NamingDocument, SitePhoto or SiteFile
    facts: SiteFacts | None = None
    naming_same_as: str = ""  # a site card whose naming document is already in the leaf: that item's label

    @property
    def label(self) -> str:
        """3, or 3-1 for the first file of the third pick (a site)."""
        return f"{self.number}-{self.sub}" if self.sub else str(self.number)

    @property
    def source(self) -> str:
        """report / evidence / office, or site (the card) / site-naming / site-photo / site-file."""
        if self.pick.report_id:
            return "report"
        if self.pick.evidence_id:
            return "evidence"
        if self.pick.office_file_id:
            return "office"
        if self.file_holder is None:
            return "site"
        if isinstance(self.file_holder, NamingDocument):
            return "site-naming"
        return "site-photo" if isinstance(self.file_holder, SitePhoto) else "site-file"

    @property
    def site(self) -> Site | None:
        return self.pick.site if self.pick.site_id else None

    @property
    def site_level_label(self) -> str:
        return Site.level_label(self.facts.level if self.facts is not None else self.site.level)

    @property
    def site_named_on(self):
        return self.facts.named_on if self.facts is not None else self.site.named_on

    @property
    def report(self) -> ProgressReport | None:
        if self.pick.report_id:
            return self.pick.report
        if self.pick.evidence_id:
            return self.pick.evidence.report
        return None

    @property
    def evidence(self) -> Evidence | None:
        return self.pick.evidence if self.pick.evidence_id else None

    @property
    def office_file(self):
        return self.pick.office_file if self.pick.office_file_id else None

    @property
    def holder(self):
        """The row holding the file (an Evidence, an OfficeFile, or a site's file), or None for a report or a
        site's card."""
        return self.evidence or self.office_file or self.file_holder

    @property
    def kind(self) -> str:
        """report / site / link / image / pdf / other."""
        if self.source in ("report", "site"):
            return self.source
        holder = self.holder
        if self.evidence is not None and self.evidence.is_link:
            return "link"
        content_type = holder.content_type or ""
        if content_type in ("image/jpeg", "image/png"):
            return "image"
        if content_type == "application/pdf":
            return "pdf"
        return "other"

    @property
    def has_file(self) -> bool:
        return self.kind in ("image", "pdf", "other") and bool(self.holder.file)

    @property
    def name(self) -> str:
        """The file's name as its owner gave it (with the extension of what it really is)."""
        if self.evidence is not None:
            return self.evidence.download_name if self.evidence.file else (self.evidence.url or "")
        if self.office_file is not None:
            return self.office_file.original_name or os.path.basename(self.office_file.file.name)
        if self.file_holder is not None:
            return download_name(self.file_holder.original_name, self.file_holder.file.name)
        return self.site.name if self.site is not None else ""

    @property
    def caption(self) -> str:
        holder = self.holder
        return (holder.caption if holder is not None else "") or ""

    @property
    def size(self) -> int:
        holder = self.holder
        return holder.size if holder is not None else 0

    @property
    def size_label(self) -> str:
        return human_size(self.size)

    @property
    def unit_name(self) -> str:
        report = self.report
        if report is not None:
            return report.unit.name
        return self.site.owner.name if self.site is not None else "创建办"

    @property
    def period_label(self) -> str:
        report = self.report
        return report.period.label if report is not None else ""

    @property
    def report_label(self) -> str:
        report = self.report
        if report is not None:
            return f"任务{report.task.number} {report.task.title}"
        return f"示范点：{self.site.name}" if self.site is not None else ""

    @property
    def source_label(self) -> str:
        """市委宣传部 · 2024年第三季度 · 任务3 …, 示范点“…” · 单位, or 创建办材料."""
        if self.site is not None:
            return f"示范点“{self.site.name}” · {self.unit_name}"
        if self.report is None:
            return "创建办材料"
        return " · ".join([self.unit_name, self.period_label, self.report_label])

    @property
    def zip_file_name(self) -> str:
        number = f"{self.number:02d}-{self.sub:02d}" if self.sub else f"{self.number:02d}"
        name = f"{self.site.name} {self.name}" if self.file_holder is not None else self.name
        return f"{number} {safe_name(name, FILE_MAX, keep_extension=True)}"


@dataclass
class Section:
    """A leaf, the branches that open with it (outermost first), its account and its picked items."""

    leaf: Node
    root: Node
    openers: list[Node]
    account: IndicatorAccount | None
    items: list[Item] = field(default_factory=list)

    @property
    def indicator(self) -> Indicator:
        return self.leaf.indicator

    @property
    def folder(self) -> str:
        """The leaf's folder in the zip: ``1 一级指标名/1.1.1 指标名`` (a root that is itself a leaf: one folder)."""
        leaf_folder = safe_name(f"{self.indicator.code} {self.indicator.title}", FOLDER_MAX)
        if self.root is self.leaf:
            return leaf_folder
        root = self.root.indicator
        return f"{safe_name(f'{root.code} {root.title}', FOLDER_MAX)}/{leaf_folder}"

    @property
    def files(self) -> list[Item]:
        return [item for item in self.items if item.has_file]

    @property
    def pick_count(self) -> int:
        """Picked things (a site with its files is one)."""
        return sum(1 for item in self.items if not item.sub)

    @property
    def score(self) -> Decimal | None:
        return self.account.score if self.account is not None else None


@dataclass
class Dossier:
    system: IndicatorSystem
    roots: list[Node]
    sections: list[Section]

    @property
    def nodes(self) -> list[Node]:
        """Every indicator in contents order (the contents' and the bookmarks' entries)."""
        return [node for root in self.roots for node in root.walk()]

    @property
    def scored(self) -> Decimal:
        return sum((s.score for s in self.sections if s.score is not None), Decimal(0))

    @property
    def total_points(self) -> Decimal:
        return sum((root.points for root in self.roots), Decimal(0))

    @property
    def file_count(self) -> int:
        return sum(len(s.files) for s in self.sections)


def named_sites():
    """The ids of the sites named as of today, by the register's rule: the sites a pick may hold."""
    return sites_as_of(status=Site.Status.NAMED).order_by().values("pk")


def picked(queryset=None):
    """The picks that count: reports (and files of reports) still approved, the office's own files, and sites
    still named. The one rule for what the dossier prints and the evaluator sees."""
    qs = EvidencePick.objects.all() if queryset is None else queryset
    approved = ProgressReport.State.APPROVED
    return qs.filter(
        Q(report__isnull=True) | Q(report__state=approved),
        Q(evidence__isnull=True) | Q(evidence__report__state=approved),
        Q(site__isnull=True) | Q(site__in=named_sites()),
    )


def pick_queryset(system: IndicatorSystem):
    return (
        picked(EvidencePick.objects.filter(indicator__system=system))
        .select_related(
            "report__unit",
            "report__period",
            "report__task",
            "evidence__report__unit",
            "evidence__report__period",
            "evidence__report__task",
            "office_file",
            "site__owner",
            "site__county",
        )
        .prefetch_related(
            Prefetch("site__photos", queryset=SitePhoto.objects.order_by("uploaded_at", "id")),
            Prefetch("site__files", queryset=SiteFile.objects.order_by("uploaded_at", "id")),
        )
        .order_by("indicator_id", "order", "id")
    )


def site_facts(site_ids: Iterable[int]) -> dict[int, SiteFacts]:
    """Level and naming date as of today of the given sites (one query; none when no ids)."""
    ids = set(site_ids)
    if not ids:
        return {}
    rows = (
        sites_as_of()
        .filter(pk__in=ids)
        .values_list("pk", "level_on", "named_date", "named_document", "named_document_name")
    )
    return {
        pk: SiteFacts(level=level, named_on=named_on, document=document or "", document_name=name or "")
        for pk, level, named_on, document, name in rows
    }


def items_of(picks: Iterable[EvidencePick], facts: dict[int, SiteFacts] | None = None) -> list[Item]:
    """One leaf's picks (in order, from ``pick_queryset``) as the items printed, zipped and shown: a site pick
    opens into its card and its files (naming document, photos, other files). A naming decision names sites in
    batches: one already in the leaf is not repeated, the card says where it is (``naming_same_as``).
    ``facts`` as ``site_facts`` (read here when not given)."""
    picks = list(picks)
    if facts is None:
        facts = site_facts(p.site_id for p in picks if p.site_id)
    items: list[Item] = []
    documents: dict[str, str] = {}  # stored name of a naming document in the leaf → its item's label
    for number, pick in enumerate(picks, start=1):
        if not pick.site_id:
            items.append(Item(number, pick))
            continue
        site = pick.site
        fact = facts.get(site.pk)
        card = Item(number, pick, facts=fact)
        items.append(card)
        holders: list[object] = []
        if fact is not None and fact.document:
            if fact.document in documents:
                card.naming_same_as = documents[fact.document]
            else:
                holders.append(NamingDocument(site, fact.document, fact.document_name))
        holders += [*site.photos.all(), *site.files.all()]
        for sub, holder in enumerate(holders, start=1):
            item = Item(number, pick, sub=sub, file_holder=holder, facts=fact)
            if isinstance(holder, NamingDocument):
                documents[holder.file.name] = item.label
            items.append(item)
    return items


def content_digest(dossier: Dossier) -> str:
    """A digest of everything the dossier prints and files: the system, every indicator, each leaf's account,
    score and justification, and its items in order (reports by version, files by stored name, sites as of
    today). Two readings of unchanged data give the same digest; a finished file whose digest differs from
    today's was built from data that has changed since (the dossier page says so)."""
    system = dossier.system
    parts = [system.name, str(system.pass_score), str(system.full_score)]
    for node in dossier.nodes:
        i = node.indicator
        parts.append(f"{i.pk}|{i.code}|{i.title}|{node.points}|{i.scoring_rule}|{i.evidence_expected}")
    for section in dossier.sections:
        account = section.account
        if account is not None:
            parts.append(f"{section.indicator.pk}|{account.account}|{account.score}|{account.justification}")
        for item in section.items:
            report, holder, site = item.report, item.holder, item.site
            parts.append(
                "|".join(
                    [
                        item.label,
                        item.source,
                        f"{report.pk}:{report.version}" if report is not None else "",
                        f"{holder.pk}:{holder.file.name}:{holder.caption}" if holder is not None else "",
                        f"{site.pk}:{site.updated_at.isoformat()}:{item.facts}" if site is not None else "",
                    ]
                )
            )
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def record_digest(compilation, dossier: Dossier) -> None:
    """Note on the compilation what it is being built from (``content_digest``)."""
    type(compilation).objects.filter(pk=compilation.pk).update(source_digest=content_digest(dossier))


def dossier_sections(system: IndicatorSystem) -> Dossier:
    """The system's leaves in tree order with everything the dossier prints, in a fixed number of queries
    (the tree, the accounts, the picks, and when sites are picked their photos, files and facts as of today)."""
    roots = indicator_tree(system)
    accounts = {a.indicator_id: a for a in IndicatorAccount.objects.filter(indicator__system=system)}
    by_leaf: dict[int, list[EvidencePick]] = {}
    for pick in pick_queryset(system):
        by_leaf.setdefault(pick.indicator_id, []).append(pick)
    facts = site_facts(p.site_id for rows in by_leaf.values() for p in rows if p.site_id)
    items = {pk: items_of(rows, facts) for pk, rows in by_leaf.items()}
    sections: list[Section] = []
    for root in roots:
        pending: list[Node] = []

        def visit(node: Node, root=root, pending=pending) -> None:
            if node.is_leaf:
                indicator = node.indicator
                sections.append(
                    Section(
                        leaf=node,
                        root=root,
                        openers=list(pending),
                        account=accounts.get(indicator.pk),
                        items=items.get(indicator.pk, []),
                    )
                )
                pending.clear()
                return
            pending.append(node)
            for child in node.children:
                visit(child)

        visit(root)
    return Dossier(system=system, roots=roots, sections=sections)


# ---------------------------------------------------------------------------------------- helpers


def safe_name(name: str, limit: int, *, keep_extension: bool = False) -> str:
    """A folder or file name every zip tool and file system accepts: no slashes, colons, control characters
    or trailing dots and spaces, NFC-normalised, cut to ``limit`` characters (keeping a file's extension) and
    not ending in a comma or an opening bracket the cut left behind."""
    name = unicodedata.normalize("NFC", name or "")
    name = UNSAFE_NAME.sub("_", name).strip(" .")
    stem, extension = os.path.splitext(name) if keep_extension else (name, "")
    if len(extension) > 10:
        stem, extension = name, ""
    stem = stem[: max(1, limit - len(extension))].strip(" .").rstrip(CUT_PUNCTUATION) or "文件"
    return f"{stem}{extension}"


def work_root() -> Path:
    """Where unfinished dossiers keep their parts between runs: shared by the workers (the media volume)."""
    configured = getattr(settings, "COMPILATION_WORK_DIR", None)
    return Path(configured) if configured else Path(settings.MEDIA_ROOT) / ".work"


def work_dir(compilation) -> Path:
    path = work_root() / f"compilation-{compilation.pk}-{compilation.format}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomically(path: Path, data: bytes) -> None:
    """A part is there whole or not at all: written beside, then renamed (atomic on one file system)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_json(path: Path, value: dict) -> None:
    write_atomically(path, json.dumps(value, ensure_ascii=False).encode("utf-8"))


def remove_work_dir(compilation) -> None:
    shutil.rmtree(work_root() / f"compilation-{compilation.pk}-{compilation.format}", ignore_errors=True)


def prune_work_dirs() -> int:
    """Remove the work directories of dossiers that will not run again (finished or deleted): a failed one's
    parts stay for its retry until the row's file is made or the row is gone."""
    from reports.compilations.models import Compilation

    root = work_root()
    if not root.is_dir():
        return 0
    ids = {}
    for path in root.iterdir():
        match = re.fullmatch(r"compilation-(\d+)-\w+", path.name)
        if match:
            ids[path] = int(match.group(1))
    unfinished = set(
        Compilation.objects.filter(pk__in=set(ids.values()))
        .exclude(state=Compilation.State.DONE)
        .values_list("pk", flat=True)
    )
    removed = 0
    for path, pk in ids.items():
        if pk not in unfinished:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed
