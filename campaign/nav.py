"""The header navigation: each item's page and who sees it."""

from django.urls import reverse

# (label, url name, who sees it: "all" | "office" | "leadership" | "unit" | "signer" (a unit's 分管领导))
NAV = [
    ("首页", "home", "all"),
    ("本季度报送", "reports:period", "unit"),
    ("审核", "reports:review_queue", "office"),
    ("分管领导审核", "reports:signoff_queue", "signer"),
    ("看板", "dashboard:period", "office"),
    ("总览", "dashboard:leadership", "leadership"),
    ("实施方案", "plan", "all"),
    ("单位", "units:directory", "all"),
    ("示范点", "sites:list", "all"),
    ("汇编下载", "compilations:list", "all"),
    ("逾期通报", "notifications:bulletin", "office"),
    ("测评申报", "assessment:systems", "leadership"),
    ("方案管理", "plan_import:plans", "leadership"),
]

# An item whose pages sit under a wider prefix than its own URL (方案管理 is also a plan's tasks and phases).
SECTION = {"plan_import:plans": "/plan/import/"}


def nav_items(access, current_path: str) -> list[dict]:
    items = []
    urls = [SECTION.get(name) or reverse(name) for _label, name, _who in NAV]
    # The page is under the longest matching item only (/plan/import/plans/ is 方案管理, not also 实施方案).
    best = max((u for u in urls if u != "/" and current_path.startswith(u)), key=len, default="/")
    for label, name, who in NAV:
        if who == "office" and not access.is_office:
            continue
        if who == "leadership" and not (access.is_leadership or access.is_office):
            continue
        if who == "unit" and not access.is_unit_member:
            continue
        if who == "signer" and not access.leader_unit_ids:
            continue
        url = reverse(name)
        section = SECTION.get(name) or url
        active = current_path == url if url == "/" else section == best
        items.append({"label": label, "url": url, "active": active})
    return items
