from campaign import checks


def test_check_warns_without_a_cjk_font(monkeypatch):
    monkeypatch.setattr(checks, "cjk_fonts", lambda: [])

    warnings = checks.check_cjk_font(None)

    assert [w.id for w in warnings] == ["campaign.W001"]
    assert "fonts-noto-cjk" in warnings[0].hint


def test_check_is_quiet_with_the_noto_cjk_fonts_installed():
    assert any("CJK" in family for family in checks.cjk_fonts())
    assert checks.check_cjk_font(None) == []
