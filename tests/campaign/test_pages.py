"""Pages of the foundation: login, home per role, the plan, task and unit pages."""

import pytest

from tests.campaign.test_decorators import nav_labels
from tests.conftest import PASSWORD

PAGES = ["/", "/plan/", "/plan/tasks/1/", "/units/", "/units/kongtong/"]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_is_sent_to_login(client, plan, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("who", ["as_office", "as_leader", "as_liaison_a", "as_liaison_b"])
def test_every_role_reads_the_plan_pages(request, url, who):
    client = request.getfixturevalue(who)

    response = client.get(url)

    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.content.decode()


def test_office_home_shows_the_plan_overview(as_office):
    body = as_office.get("/").content.decode()

    assert "平凉市创建全国民族团结进步示范市" in body
    assert 'data-testid="task-count">29<' in body
    assert "宣传动员阶段" in body and "组织实施阶段" in body and "申报验收阶段" in body
    assert "（八）大力开展“八进”活动" in body


def test_liaison_home_lists_the_units_tasks_and_no_others(as_liaison_a):
    body = as_liaison_a.get("/").content.decode()

    assert "市委宣传部 承担的任务" in body
    assert "共 8 项" in body  # tasks 2–8 and 10
    assert "弘扬中华民族伟大精神" in body  # task 3, led by 市委宣传部
    assert "全力推动乡村振兴" not in body  # task 11 is not theirs


def test_task_page_shows_text_lead_co_units_and_targets(as_liaison_b):
    body = as_liaison_b.get("/plan/tasks/26/").content.decode()

    assert "26. 进学校" in body
    assert 'data-testid="lead-unit"><a href="/units/jiaoyuju/">市教育局</a>' in body
    assert "崆峒区、华亭市" in body and "不少于 4 个" in body
    assert "2025年底" in body


def test_unknown_task_is_a_404(as_office):
    assert as_office.get("/plan/tasks/99/").status_code == 404


def test_unit_directory_searches_by_name(as_office):
    body = as_office.get("/units/", {"q": "教育"}).content.decode()

    assert "市教育局" in body
    assert "市公安局" not in body


def test_unit_directory_filters_by_kind(as_office):
    body = as_office.get("/units/", {"kind": "county"}).content.decode()

    assert "崆峒区" in body and "静宁县" in body
    assert "市教育局" not in body


def test_wrong_password_shows_a_clear_message(client, liaison_a):
    response = client.post("/login/", {"username": "liaison_a", "password": "wrong"})

    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_right_password_logs_in_and_lands_on_home(client, liaison_a):
    response = client.post("/login/", {"username": "liaison_a", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_dates_are_written_the_chinese_way(as_office):
    body = as_office.get("/plan/").content.decode()

    assert "2023年6月1日至2023年7月31日" in body
    assert "2023-06-01" not in body


@pytest.mark.parametrize(
    ("who", "labels"),
    [
        (
            "as_office",
            [
                "首页",
                "审核",
                "看板",
                "总览",
                "实施方案",
                "单位",
                "示范点",
                "汇编下载",
                "逾期通报",
                "测评申报",
                "方案管理",
            ],
        ),
        ("as_leader", ["首页", "总览", "实施方案", "单位", "示范点", "汇编下载", "测评申报", "方案管理"]),
        ("as_liaison_a", ["首页", "本季度报送", "实施方案", "单位", "示范点", "汇编下载"]),
    ],
)
def test_the_navigation_shows_each_role_its_pages(request, who, labels):
    # nav.py reverses every item: a missing page is an error now, no longer a silently missing link
    client = request.getfixturevalue(who)

    assert nav_labels(client.get("/").content.decode()) == labels
