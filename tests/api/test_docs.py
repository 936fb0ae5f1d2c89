"""The API docs (/api/docs/, drf-spectacular) read as a Chinese product's API: every operation in one declared
group with a Chinese summary, every group and parameter described in Chinese, an introduction that explains
tokens, lockout, pages, bodies, versions and errors with the figures the settings decide, and a schema the
generator builds without a warning."""

from __future__ import annotations

import re

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

from campaign.api import Pagination

CJK = re.compile(r"[\u4e00-\u9fff]")
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def schema(client, liaison_a):
    client.force_login(liaison_a)  # the schema is for anyone signed in, a liaison as much as the office
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def test_every_operation_has_a_chinese_summary_and_one_declared_tag(schema):
    declared = {tag["name"] for tag in schema["tags"]}

    untitled = [where for where, op in operations(schema) if not CJK.search(op.get("summary") or "")]
    badly_tagged = {
        where: op.get("tags")
        for where, op in operations(schema)
        if len(op.get("tags") or []) != 1 or op["tags"][0] not in declared
    }

    assert len(list(operations(schema))) >= 38
    assert untitled == []
    assert badly_tagged == {}


def test_the_groups_are_the_declared_ones_each_described_in_chinese_and_used(schema):
    tags = schema["tags"]
    used = {tag for _, op in operations(schema) for tag in op.get("tags") or []}

    assert [tag["name"] for tag in tags] == [
        "认证",
        "方案与报告期",
        "单位",
        "任务",
        "进展报告",
        "看板",
        "汇编文件",
        "通知",
        "示范点",
        "测评与申报",
    ]
    assert [tag["name"] for tag in tags if not CJK.search(tag.get("description", ""))] == []
    assert used == {tag["name"] for tag in tags}


def test_every_parameter_is_described_in_chinese(schema):
    undescribed = [
        f"{where} {parameter['in']}:{parameter['name']}"
        for where, op in operations(schema)
        for parameter in op.get("parameters", [])
        if not CJK.search(parameter.get("description") or "")
    ]

    assert undescribed == []


def test_the_filters_people_use_are_documented(schema):
    def query(path):
        return {p["name"] for p in schema["paths"][path]["get"]["parameters"] if p["in"] == "query"}

    assert {"search", "kind", "parent", "code"} <= query("/api/v1/units/")
    assert {"campaign", "section", "number"} <= query("/api/v1/tasks/")
    assert "unread" in query("/api/v1/notifications/")
    assert {"period", "unit", "task", "task_number", "state", "progress_status"} <= query("/api/v1/reports/")
    assert {"unit", "county", "category", "level", "status", "as_of"} <= query("/api/v1/sites/")


def test_the_introduction_explains_the_api_in_chinese_with_the_settings_figures(schema):
    info = schema["info"]
    text = info["description"]

    assert info["title"] == "民族团结进步示范市创建工作平台 API"
    assert "POST /api/v1/auth/token/" in text
    assert "Authorization: Token" in text
    assert f"{settings.API_TOKEN_TTL.days} 天" in text
    assert f"连续输错密码 {settings.AXES_FAILURE_LIMIT} 次后锁定 {settings.AXES_COOLOFF_MINUTES} 分钟" in text
    assert "429" in text
    assert f"默认 {Pagination.page_size}，最多 {Pagination.max_page_size}" in text
    assert "`page`" in text and "`page_size`" in text
    assert "JSON 请求体必须是一个对象" in text
    assert "`version`" in text and "409" in text
    assert '"detail"' in text and '"code"' in text
    assert "令牌" in schema["components"]["securitySchemes"]["tokenAuth"]["description"]


def test_the_docs_page_is_served_to_a_signed_in_person(client, liaison_a):
    client.force_login(liaison_a)

    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert "swagger-ui" in response.content.decode()


def test_the_generator_builds_the_schema_without_a_warning_and_without_the_database(tmp_path):
    # No database here (no db fixture): a view whose schema needs a query is a warning, and --fail-on-warn
    # makes any warning an error, as `manage.py spectacular --validate --fail-on-warn` in a build would.
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    written = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert written["info"]["title"] == "民族团结进步示范市创建工作平台 API"
    assert len(written["paths"]) >= 25


def test_a_nul_character_in_a_search_is_dropped_not_a_server_error(api_client, office_user, client):
    # Now that the docs list ?search=, the schema fuzz sends it; on PostgreSQL a NUL in it was a 500.
    api_client.force_authenticate(office_user)

    response = api_client.get("/api/v1/units/", {"search": "宣传\x00"})

    assert response.status_code == 200
    assert [u["name"] for u in response.json()["results"]] == ["市委宣传部"]
    client.force_login(office_user)
    assert client.get("/units/", {"q": "宣传\x00"}).status_code == 200
    assert client.get("/reports/review/", {"q": "宣传\x00"}).status_code == 200
