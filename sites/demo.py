"""A believable register for the demo, drawn from the plan's own numbers: for every 示范点 target of the
八进 tasks, the units it names build about what was promised (a reliable unit its number, now and then one
more; the demo's weak county about half), named (命名) over the campaign's years, plus some places still 培育;
among the named, enough 省级 and 市级 ones for the plan's "7个省级、20个市级". So the 八进 table and the
site targets on the demo are mostly green, with the few reds in the weak county, as the report data are."""

from __future__ import annotations

import datetime as dt
import math
import random

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from campaign.models import Campaign
from reports.demo import weak_units
from tasks.models import Responsibility, Target, Task
from units.models import Unit

from .models import Site, SiteNaming, SitePhoto

ARENA_TASK = {  # the plan's task title → the arena
    "进乡镇(街道)": Site.Category.TOWNSHIP,
    "进机关": Site.Category.ORGAN,
    "进企业": Site.Category.ENTERPRISE,
    "进社区(村)": Site.Category.COMMUNITY,
    "进学校": Site.Category.SCHOOL,
    "进宗教活动场所": Site.Category.RELIGIOUS,
    "进“两新”组织": Site.Category.NEW_ORG,
    "进景区": Site.Category.SCENIC,
}
NAMES = {
    Site.Category.TOWNSHIP: ["城关镇", "新集乡", "东华街道", "安国镇", "西阳乡", "麻武乡"],
    Site.Category.ORGAN: ["统战部机关", "民宗局机关", "教育局机关", "人社局机关", "司法局机关", "税务局机关"],
    Site.Category.ENTERPRISE: ["农业发展公司", "牛产业合作社", "果业公司", "清真食品公司", "物流园"],
    Site.Category.COMMUNITY: ["东关社区", "西关社区", "南苑社区", "北街社区", "柳湖社区", "新民村"],
    Site.Category.SCHOOL: ["第一中学", "第二小学", "实验小学", "职业中学", "民族中学", "第三中学"],
    Site.Category.RELIGIOUS: ["东关清真寺", "西关清真寺", "北山寺", "城隍庙", "南关清真寺"],
    Site.Category.NEW_ORG: ["物流协会", "个体劳动者协会", "律师事务所", "商会", "电商协会"],
    Site.Category.SCENIC: ["生态景区", "古镇景区", "湿地公园", "森林公园", "民俗村"],
}
PROVINCIAL, CITY_LEVEL = 8, 22  # a little above the plan's 7 and 20


ISSUERS = {
    Site.Level.NATION: "国家民族事务委员会",
    Site.Level.PROVINCE: "甘肃省民族团结进步创建活动领导小组",
    Site.Level.CITY: "平凉市创建全国民族团结进步示范市工作领导小组",
}


ROUND_DAYS = ((3, 20), (6, 20), (9, 20), (12, 20))  # naming rounds: a decision each quarter, on these days


def _naming_round(due: dt.date, today: dt.date) -> dt.date | None:
    """The naming round that names a site ready on ``due``: the first round on or after it; None when that is
    after ``today``. Sites named in one round share one decision, whose date is the naming date on every card."""
    rounds = (
        dt.date(year, month, day) for year in range(due.year, due.year + 2) for month, day in ROUND_DAYS
    )
    chosen = next(r for r in rounds if r >= due)
    return chosen if chosen <= today else None


def _batch(site: Site) -> tuple:
    """Sites named together by one decision: per round and level, and per county for the county level."""
    return site.named_on, site.level, site.county_id if site.level == Site.Level.COUNTY else None


def _naming_documents(campaign, named: list[Site]) -> dict[tuple, tuple[str, str]]:
    """One scanned naming decision per batch (``reports.demo.naming_decision_pdf``), stored once and shared by
    its sites: batch → (stored name, original name)."""
    from reports.demo import naming_decision_pdf

    batches: dict[tuple, list[Site]] = {}
    for site in sorted(named, key=lambda s: (s.named_on, s.level, s.county_id or 0, s.name)):
        batches.setdefault(_batch(site), []).append(site)
    documents = {}
    for (day, level, _county), sites in batches.items():
        label = Site.Level(level).label
        if level == Site.Level.COUNTY:
            county = sites[0].county
            issuer = f"{county.name}民族团结进步创建工作领导小组"
        else:
            issuer = ISSUERS[level].replace("平凉市", campaign.city)
        title = f"关于命名{sites[0].name}等{len(sites)}个单位为{label}民族团结进步示范点的决定"
        if len(sites) == 1:
            title = f"关于命名{sites[0].name}为{label}民族团结进步示范点的决定"
        data = naming_decision_pdf(
            issuer=issuer,
            title=title,
            names=[s.name for s in sites],
            day=day,
            seed=f"{day}:{level}:{sites[0].county_id}",
        )
        stored = default_storage.save(
            f"sites/naming/demo-{day:%Y%m%d}-{level}-{_county or 0}.pdf", ContentFile(data)
        )
        documents[_batch(sites[0])] = (stored, f"{title}.pdf")
    return documents


def seed_sites(today: dt.date) -> list[Site]:
    """Idempotent: does nothing when the register already has sites. Sites are created and named on dates
    up to ``today`` only (nothing in the future), spread over the campaign."""
    if Site.objects.exists():
        return list(Site.objects.all())
    campaign = Campaign.current()
    if campaign is None:
        return []
    rng = random.Random("demo:sites")
    tasks = {t.pk: t for t in Task.objects.filter(campaign=campaign, title__in=ARENA_TASK)}
    counties = list(Unit.objects.filter(kind__in=[Unit.Kind.COUNTY, Unit.Kind.PARK], is_active=True))
    if not tasks or not counties:
        return []
    responsibilities = list(
        Responsibility.objects.filter(task__campaign=campaign, unit__is_active=True)
        .exclude(unit__code__startswith="scale-")
        .select_related("unit")
    )
    weak = weak_units(
        list({r.unit_id: r.unit for r in responsibilities}.values()),
        {r.unit_id for r in responsibilities if r.is_lead},
    )
    departments: dict[int, list[Unit]] = {}  # task → the non-county units carrying it, lead first
    for r in sorted(responsibilities, key=lambda r: (not r.is_lead, r.order)):
        if not r.unit.is_county_level:
            departments.setdefault(r.task_id, []).append(r.unit)

    # (owner, task, how many named, how many still 培育)
    plan: list[tuple[Unit, Task, int, int]] = []
    for target in Target.objects.filter(task_id__in=tasks, metric__code="demo_sites").prefetch_related(
        "units"
    ):
        task, promised = tasks[target.task_id], int(target.value)
        listed = list(target.units.all())
        if target.scope == Target.Scope.EACH_UNIT:
            owners = [(u, promised) for u in listed]
        else:  # 市上 / 市区联合: the departments carrying the task, with the listed county's share
            city_share = promised if target.scope == Target.Scope.CITY else math.ceil(promised / 2)
            carrying = departments.get(task.pk) or []
            city_units = [u for u in carrying if u.pk not in weak] or carrying
            owners = [(city_units[i % len(city_units)], 1) for i in range(city_share)] if city_units else []
            owners += [(u, promised - city_share) for u in listed]
        for unit, n in owners:
            if unit.pk in weak:
                plan.append((unit, task, n // 2, 1 + n % 2))
            else:
                plan.append((unit, task, n + (rng.random() < 0.2), int(rng.random() < 0.5)))

    start = campaign.starts_on
    last_naming = min(today, campaign.ends_on - dt.timedelta(days=10))
    span = max((last_naming - start).days - 150, 1)
    used: dict[tuple[int, str], int] = {}
    sites: list[Site] = []
    namings: list[SiteNaming] = []
    for owner, task, named, cultivating in plan:
        category = ARENA_TASK[task.title]
        for i in range(named + cultivating):
            county = owner if owner.is_county_level else rng.choice(counties)
            key = (county.pk, category)
            used[key] = used.get(key, 0) + 1
            base = NAMES[category][(used[key] - 1) % len(NAMES[category])]
            rounds = (used[key] - 1) // len(NAMES[category])
            created = start + dt.timedelta(days=rng.randint(0, span))
            if created > today:
                continue
            site = Site(
                name=f"{county.short_name or county.name}{base}" + (f"（{rounds + 1}）" if rounds else ""),
                category=category,
                owner=owner,
                county=county,
                task=task,
                address=f"{county.name}{rng.choice(['中街', '新区', '西路', '北关', '南苑'])}{rng.randint(1, 200)}号",
                level=Site.Level.COUNTY,
                created_at=timezone.make_aware(dt.datetime.combine(created, dt.time(9))),
                contact_name=rng.choice("马李张王刘杨") + rng.choice(["明", "华", "强", "芳", "军", "霞"]),
                contact_phone=f"1390933{len(sites):04d}",
            )
            named_on = _naming_round(created + dt.timedelta(days=rng.randint(90, 150)), today)
            if i < named and named_on is not None:
                site.status, site.named_on = Site.Status.NAMED, named_on
            sites.append(site)
    Site.objects.bulk_create(sites)

    named_sites = [s for s in sites if s.status == Site.Status.NAMED]
    rng.shuffle(named_sites)
    for n, site in enumerate(named_sites):
        if n == 0:
            site.level = Site.Level.NATION
        elif n < PROVINCIAL:
            site.level = Site.Level.PROVINCE
        elif n < PROVINCIAL + CITY_LEVEL:
            site.level = Site.Level.CITY
    documents = _naming_documents(campaign, named_sites)
    for site in named_sites:
        site.naming_document, site.naming_document_name = documents[_batch(site)]
        namings.append(
            SiteNaming(
                site=site,
                level=site.level,
                named_on=site.named_on,
                document=site.naming_document,
                document_name=site.naming_document_name,
                state=SiteNaming.State.APPROVED,
                requested_at=site.created_at,
                decided_at=timezone.make_aware(dt.datetime.combine(site.named_on, dt.time(10))),
            )
        )
    Site.objects.bulk_update(named_sites, ["level", "naming_document", "naming_document_name"])
    SiteNaming.objects.bulk_create(namings)
    _photos([s for s in named_sites if s.level != Site.Level.COUNTY])
    return sites


def _photos(sites: list[Site]) -> None:
    """One photo of each of these sites (the city level and above), stored through the upload checks
    (``reports.evidence``) with its thumbnail, as a unit's upload would be."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reports import evidence
    from reports.demo import site_photo_jpeg

    rows = []
    for site in sites:
        upload = SimpleUploadedFile(
            "示范点照片.jpg", site_photo_jpeg(f"{site.name}民族团结进步示范点", str(site.pk))
        )
        kind, sha256, size = evidence.check_upload(upload)
        photo = SitePhoto(
            site=site,
            original_name=f"{site.name}.jpg",
            content_type=kind.content_type,
            size=size,
            sha256=sha256,
            caption=f"{site.name}创建活动阵地",
        )
        photo.file.save(evidence.stored_name(kind.extension), upload, save=False)
        thumbnail = evidence.make_thumbnail(upload)
        if thumbnail is not None:
            photo.thumbnail.save(evidence.stored_name("jpg"), thumbnail, save=False)
        rows.append(photo)
    SitePhoto.objects.bulk_create(rows)
