"""Loading a rendered report in headless Chromium: images decode, no console errors."""

from __future__ import annotations

import base64

import pytest
import report_browser
import report_fixture

from lookbook.report import context as report_context
from lookbook.report import render

needs_chromium = pytest.mark.skipif(report_browser.chromium_path() is None, reason="chromium not installed (Debian: chromium)")
pytestmark = [pytest.mark.browser, needs_chromium]


def test_fixture_report_loads_cleanly(tmp_path):
    config = report_fixture.fixture_config()
    inputs = report_fixture.write_results(tmp_path, config)
    context = report_context.build_context(config, inputs, [], root=tmp_path)
    html_path = tmp_path / "report.html"
    render.render_html(context, html_path, root=tmp_path)
    result = report_browser.check_page(html_path, tmp_path)
    figures = [name for name in inputs if name.startswith("fig_")]
    assert result["images"] == len(figures)
    assert result["broken"] == []
    assert result["errors"] == []


def test_probe_detects_broken_image(tmp_path):
    # Negative control: the check must fail on an image that does not decode.
    not_png = base64.b64encode(b"not a png").decode()
    page = tmp_path / "broken.html"
    page.write_text(f'<!DOCTYPE html><html><head></head><body><img alt="bad" src="data:image/png;base64,{not_png}"></body></html>')
    result = report_browser.check_page(page, tmp_path)
    assert result["broken"] == ["bad"]


def test_probe_detects_script_error(tmp_path):
    page = tmp_path / "error.html"
    page.write_text("<!DOCTYPE html><html><head></head><body><script>undefinedFunction();</script></body></html>")
    result = report_browser.check_page(page, tmp_path)
    assert len(result["errors"]) == 1
    assert "undefinedFunction" in result["errors"][0]


def test_probe_detects_console_error(tmp_path):
    page = tmp_path / "console.html"
    page.write_text("<!DOCTYPE html><html><head></head><body><script>console.error('boom');</script></body></html>")
    result = report_browser.check_page(page, tmp_path)
    assert result["errors"] == ["error: boom"]


def test_screenshot_written(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<!DOCTYPE html><html><head></head><body><h1>report</h1></body></html>")
    shot = report_browser.screenshot(page, tmp_path / "shot.png", tmp_path)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
