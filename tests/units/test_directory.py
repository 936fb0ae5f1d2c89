"""The 单位 page shows each unit's code, the 联络员's login name in the quick start (README), on the list
and on the unit's own page, and the code finds the unit in the search box."""

from __future__ import annotations

import re


def test_the_directory_shows_each_units_code(as_liaison_a, plan):
    body = as_liaison_a.get("/units/").content.decode()

    row = re.search(r'<tr data-unit="xuanchuanbu">(.*?)</tr>', body, re.S)
    assert row is not None
    assert ">市委宣传部</a>" in row.group(1)
    assert (
        '<td class="card-inline" data-label="代码"><code class="unit-code">xuanchuanbu</code></td>'
        in row.group(1)
    )
    assert '<th scope="col">代码</th>' in body


def test_searching_by_code_finds_the_unit(as_liaison_a, plan):
    body = as_liaison_a.get("/units/?q=xuanchuan", HTTP_HX_REQUEST="true").content.decode()

    assert re.findall(r'<tr data-unit="([^"]+)">', body) == ["xuanchuanbu"]


def test_the_units_page_shows_its_code(as_liaison_a, plan):
    body = as_liaison_a.get("/units/kongtong/").content.decode()

    assert '<code class="unit-code" data-testid="unit-code">kongtong</code>' in body
