"""Importing an indicator table: each format, the levels from the 序号, row-numbered errors and warnings, the
preview that writes nothing, the confirmation, and the command."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from docx import Document
from openpyxl import Workbook

from assessment.importer import IndicatorParseError, parse_file, parse_text
from assessment.models import Indicator, IndicatorSystem
from assessment.selectors import indicator_tree, system_points

HEADER = ["序号", "指标", "分值", "评分标准", "佐证材料"]
ROWS = [
    ["1", "组织领导", "20", "", ""],
    ["1.1", "领导机制", "", "", ""],
    ["1.1.1", "成立创建领导小组", "10", "成立得10分", "成立文件"],
    ["1.1.2", "定期研究部署", "10", "每年2次得10分", "会议纪要"],
    ["2", "宣传教育", "", "", ""],
    ["2.1", "开展主题宣讲", "80", "覆盖全部县区得80分", "宣讲照片"],
]


def _docx(rows, *, title="测评指标") -> bytes:
    document = Document()
    document.add_paragraph(title)
    table = document.add_table(rows=0, cols=len(rows[0]))
    for cells in rows:
        row = table.add_row().cells
        for i, text in enumerate(cells):
            row[i].text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["某市测评指标（试行）"])
    for cells in rows:
        sheet.append(
            [
                float(c) if c.replace(".", "").isdigit() and "." not in c[:-1] and c.isdigit() else c
                for c in cells
            ]
        )
    workbook.create_sheet("说明").append(["这张表不读"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _codes(parsed):
    return [(r.code, r.level, r.parent, r.points) for r in parsed.rows]


EXPECTED = [
    ("1", 1, "", "20"),
    ("1.1", 2, "1", None),
    ("1.1.1", 3, "1.1", "10"),
    ("1.1.2", 3, "1.1", "10"),
    ("2", 1, "", None),
    ("2.1", 2, "2", "80"),
]


@pytest.mark.parametrize(
    "name, data",
    [
        ("指标.docx", _docx([HEADER, *ROWS])),
        ("指标.xlsx", _xlsx([HEADER, *ROWS])),
        ("指标.txt", "\n".join("\t".join(r) for r in [HEADER, *ROWS]).encode("utf-8")),
        ("指标.txt", "\n".join(",".join(r) for r in [HEADER, *ROWS]).encode("gb18030")),
    ],
    ids=["docx", "xlsx", "tab", "comma-gb18030"],
)
def test_each_format_gives_the_same_tree(name, data):
    parsed = parse_file(name, data)
    assert _codes(parsed) == EXPECTED
    assert parsed.errors == [] and parsed.total == Decimal(100)
    assert parsed.rows[2].scoring_rule == "成立得10分" and parsed.rows[2].evidence_expected == "成立文件"
    assert [r.code for r in parsed.leaves()] == ["1.1.1", "1.1.2", "2.1"]


def test_headers_matched_loosely_in_any_order():
    rows = [
        ["佐证资料", "评分细则", "分 值（分）", "指标名称", "编号"],
        ["", "", "", "组织领导", "1"],
        ["文件", "有得5分", "5", "领导小组", "1.1"],
    ]
    parsed = parse_file("x.xlsx", _xlsx(rows), full_score="5")
    assert _codes(parsed) == [("1", 1, "", None), ("1.1", 2, "1", "5")]
    assert parsed.rows[1].evidence_expected == "文件" and parsed.rows[1].scoring_rule == "有得5分"
    assert parsed.warnings == []


def test_chinese_outline_numbers_give_levels_and_codes():
    rows = [
        HEADER,
        ["一、", "组织领导", "", "", ""],
        ["（一）", "领导机制", "", "", ""],
        ["1.", "领导小组", "3", "有", "文件"],
        ["2.", "研究部署", "2", "有", "纪要"],
        ["（二）", "工作责任", "5", "纳入考核", "办法"],
        ["二、", "宣传教育", "", "", ""],
        ["（一）", "宣讲", "90", "覆盖", "照片"],
    ]
    parsed = parse_file("x.docx", _docx(rows))
    assert _codes(parsed) == [
        ("1", 1, "", None),
        ("1.1", 2, "1", None),
        ("1.1.1", 3, "1.1", "3"),
        ("1.1.2", 3, "1.1", "2"),
        ("1.2", 2, "1", "5"),
        ("2", 1, "", None),
        ("2.1", 2, "2", "90"),
    ]
    assert parsed.errors == []


def test_numbers_inside_the_title_and_merged_heading_rows():
    rows = [
        ["序号", "指标", "分值", "评分标准"],
        ["一、组织领导（10分）", "一、组织领导（10分）", "一、组织领导（10分）", "一、组织领导（10分）"],
        ["1", "领导小组", "10", "有得10分"],
    ]
    parsed = parse_file("x.docx", _docx(rows), full_score="10")
    assert _codes(parsed) == [("1", 1, "", "10"), ("1.1", 2, "1", "10")]
    assert parsed.rows[0].title == "组织领导"


def test_level_columns_with_merged_cells():
    rows = [
        ["一级指标", "二级指标", "三级指标", "分值", "评分标准", "佐证材料"],
        ["组织领导", "领导机制", "成立领导小组", "6", "有", "文件"],
        ["组织领导", "领导机制", "定期研究", "4", "有", "纪要"],
        ["组织领导", "工作责任", "", "10", "纳入考核", "办法"],
        ["宣传教育", "主题宣讲", "覆盖县区", "80", "覆盖", "照片"],
    ]
    parsed = parse_file("x.xlsx", _xlsx(rows))
    assert _codes(parsed) == [
        ("1", 1, "", None),
        ("1.1", 2, "1", None),
        ("1.1.1", 3, "1.1", "6"),
        ("1.1.2", 3, "1.1", "4"),
        ("1.2", 2, "1", "10"),
        ("2", 1, "", None),
        ("2.1", 2, "2", None),
        ("2.1.1", 3, "2.1", "80"),
    ]
    assert parsed.errors == [] and parsed.total == 100


def test_text_outline_with_points_rules_and_evidence():
    text = """某市民族团结进步示范市测评指标
一、组织领导（20分）
（一）领导机制
1. 成立创建工作领导小组（10分）。评分标准：成立得10分。佐证材料：成立文件
2. 定期研究部署（10分）
评分标准：每年研究2次得10分，
1次得5分。
佐证材料：会议纪要
二、宣传教育
（一）主题宣讲（80分）
"""
    parsed = parse_text(text)
    assert _codes(parsed) == [
        ("1", 1, "", "20"),
        ("1.1", 2, "1", None),
        ("1.1.1", 3, "1.1", "10"),
        ("1.1.2", 3, "1.1", "10"),
        ("2", 1, "", None),
        ("2.1", 2, "2", "80"),
    ]
    leaf = parsed.rows[3]
    assert leaf.title == "定期研究部署"
    assert leaf.scoring_rule == "每年研究2次得10分，\n1次得5分。" and leaf.evidence_expected == "会议纪要"
    assert parsed.rows[2].scoring_rule == "成立得10分" and parsed.rows[2].evidence_expected == "成立文件"
    assert parsed.errors == []


def _messages(problems):
    return [str(p) for p in problems]


def test_row_numbered_errors_and_warnings():
    rows = [
        HEADER,
        ["1", "组织领导", "40", "", ""],  # line 3 (after the title and header): says 40, its leaves add 30
        ["1.1", "领导小组", "", "有", "文件"],  # line 3: a leaf without points
        ["1.2", "研究部署", "25", "有", "纪要"],
        ["1.2", "重复的序号", "5", "有", "纪要"],  # line 5: duplicate code
        ["1.2.1.1", "第四级", "5", "有", "无"],  # line 6: level 4, and its parent 1.2.1 does not exist
        ["2.1", "没有上级", "5", "有", "无"],  # line 7: parent 2 missing
        ["3", "分值写错", "五分", "有", "无"],  # line 8: not a number
        ["", "没有序号", "5", "有", "无"],  # line 9
    ]
    parsed = parse_file("x.xlsx", _xlsx(rows))
    errors = _messages(parsed.errors)
    assert "第 4 行：末级指标“领导小组”没有分值" in errors
    assert "第 6 行：序号“1.2”与第 5 行重复" in errors
    assert "第 7 行：“第四级”是第 4 级指标；指标体系最多三级（一级、二级、三级）" in errors
    assert "第 8 行：序号“2.1”的上级指标“2”不存在" in errors
    assert "第 9 行：分值“五分”不是数字（应填如 2 或 2.5）" in errors
    assert "第 10 行：“没有序号”没有序号，无法确定它的层级和上级指标" in errors
    warnings = _messages(parsed.warnings)
    assert any(w.startswith("第 3 行：“组织领导”标注 40 分，其下末级指标合计") for w in warnings)
    assert any("与满分 100 分不一致" in w for w in warnings)


def test_branch_points_that_agree_give_no_warning():
    parsed = parse_file("x.txt", "\n".join("\t".join(r) for r in [HEADER, *ROWS]).encode())
    assert not [w for w in parsed.warnings if "标注" in str(w)]


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("x.txt", b"", "上传的文件是空的"),
        ("x.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧版 Word(.doc)"),
        ("x.pdf", b"%PDF-1.4 ...", "暂不支持 PDF"),
        ("x.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "图片"),
        ("x.docx", b"PK\x03\x04 not really", "无法读取"),
        ("x.docx", _docx([["甲", "乙"], ["1", "2"]]), "没有找到指标表的表头"),
        ("x.txt", "随便写的一段话，没有序号。".encode(), "没有找到指标"),
        ("x.txt", b"\xff\xfe\x00\x00\xff", "无法识别文本文件的编码"),
    ],
)
def test_unreadable_files_are_clear_errors(name, data, message):
    with pytest.raises(IndicatorParseError) as error:
        parse_file(name, data)
    assert message in error.value.message


def test_the_example_fixture_parses_clean():
    path = Path(settings.BASE_DIR) / "fixtures" / "indicators-example.txt"
    parsed = parse_file(path.name, path.read_bytes())
    assert parsed.errors == [] and parsed.warnings == []
    levels = [sum(1 for r in parsed.rows if r.level == n) for n in (1, 2, 3)]
    assert levels == [8, 25, 50]
    assert parsed.total == Decimal(100)
    assert all(r.scoring_rule and r.evidence_expected for r in parsed.leaves())


# ------------------------------------------------------------------------------------------- pages


def _upload(client, file_name, data, **extra):
    form = {
        "name": "导入测试体系",
        "scope": "national",
        "full_score": "100",
        "pass_score": "90",
        "source": "",
    }
    form.update(extra)
    form["document"] = SimpleUploadedFile(file_name, data)
    return client.post(reverse("assessment:import"), form)


@pytest.mark.django_db
def test_preview_writes_nothing_and_confirm_creates_the_system(as_office, office_user):
    data = _docx([HEADER, *ROWS])
    response = _upload(as_office, "指标.docx", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="preview-tree"' in html and "成立创建领导小组" in html
    assert "末级指标合计 <strong>100</strong> 分，与满分 100 分一致" in html
    assert not IndicatorSystem.objects.exists() and not Indicator.objects.exists()
    token = response.context["token"]
    response = as_office.post(reverse("assessment:import_confirm"), {"token": token})
    system = IndicatorSystem.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "assessment:system", args=[system.pk]
    )
    assert system.name == "导入测试体系" and system.created_by == office_user and not system.is_example
    roots = indicator_tree(system)
    assert [(r.indicator.code, r.points) for r in roots] == [("1", Decimal(20)), ("2", Decimal(80))]
    assert Indicator.objects.get(system=system, code="1").points == 0  # a branch stores none of its own
    assert Indicator.objects.get(system=system, code="1.1.1").level == 3
    assert system_points(system) == Decimal(100)


@pytest.mark.django_db
def test_an_import_with_errors_cannot_be_confirmed(as_office):
    rows = [HEADER, ["1", "组织领导", "", "", ""], ["1.1", "领导小组", "", "有", "无"]]
    response = _upload(as_office, "x.xlsx", _xlsx(rows))
    html = response.content.decode()
    assert 'data-testid="preview-errors"' in html and "第 4 行：末级指标“领导小组”没有分值" in html
    assert 'data-testid="confirm-import"' not in html
    response = as_office.post(reverse("assessment:import_confirm"), {"token": response.context["token"]})
    assert response.status_code == 400
    assert "指标表还有 1 处错误" in response.content.decode()
    assert not IndicatorSystem.objects.exists()


@pytest.mark.django_db
def test_a_tampered_or_foreign_token_is_refused(as_office, client, plan):
    response = _upload(as_office, "x.txt", "\n".join("\t".join(r) for r in [HEADER, *ROWS]).encode())
    token = response.context["token"]
    response = as_office.post(
        reverse("assessment:import_confirm"), {"token": token[:-3] + "abc"}, follow=True
    )
    assert "预览已过期或内容无效" in response.content.decode()
    data = signing.loads(token, salt="assessment.import")
    data["user"] += 1000
    forged = signing.dumps(data, salt="assessment.import", compress=True)
    response = as_office.post(reverse("assessment:import_confirm"), {"token": forged}, follow=True)
    assert "预览已过期或内容无效" in response.content.decode()
    assert not IndicatorSystem.objects.exists()


@pytest.mark.django_db
def test_a_bad_file_keeps_the_form(as_office):
    response = _upload(as_office, "x.pdf", b"%PDF-1.4", name="保留的名称")
    html = response.content.decode()
    assert response.status_code == 400
    assert "暂不支持 PDF" in html and 'value="保留的名称"' in html


@pytest.mark.django_db
def test_import_pages_are_the_office_s(client, leadership_user, liaison_a, plan):
    data = "\n".join("\t".join(r) for r in [HEADER, *ROWS]).encode()
    for user in (leadership_user, liaison_a):
        client.force_login(user)
        assert client.get(reverse("assessment:import")).status_code == 403
        assert _upload(client, "x.txt", data).status_code == 403
        assert client.post(reverse("assessment:import_confirm"), {"token": "x"}).status_code == 403
    client.logout()
    assert _upload(client, "x.txt", data).status_code == 302
    assert not IndicatorSystem.objects.exists()


# ------------------------------------------------------------------------------------------- command


@pytest.mark.django_db
def test_command_dry_run_and_import(plan, tmp_path, capsys):
    path = tmp_path / "指标.xlsx"
    path.write_bytes(_xlsx([HEADER, *ROWS]))
    call_command("import_indicators", str(path), "--name", "命令行体系", "--dry-run")
    out = capsys.readouterr().out
    assert "识别到 6 个指标：一级 2 个、二级 2 个、三级 2 个，末级指标 3 个，合计 100 分" in out
    assert "试运行" in out and not IndicatorSystem.objects.exists()
    call_command("import_indicators", str(path), "--name", "命令行体系", "--scope", "city")
    system = IndicatorSystem.objects.get()
    assert system.scope == "city" and system.campaign == plan and system_points(system) == 100


@pytest.mark.django_db
def test_command_refuses_a_table_with_errors(plan, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("序号\t指标\t分值\n1\t组织领导\t\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1 处错误"):
        call_command("import_indicators", str(path), "--name", "坏表")
    assert not IndicatorSystem.objects.exists()
