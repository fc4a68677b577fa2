"""What the analyst opens, opened as a person would: headless Chromium (Debian's ``chromium``,
installed by ``.ci/run``) driven by Playwright loads each channel's ``validation.html`` and the
Snakemake report of the tiny builds, and nothing may go wrong in the page (console errors,
uncaught exceptions, failed loads). Skips with the reason where Chromium cannot start.
"""

from __future__ import annotations

import json
import pathlib
import shutil

import pytest

from workflow_helpers import TINY, run_snakemake

pytestmark = pytest.mark.workflow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: flags for a root, headless, offline machine (no sandbox, no calls home)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium not found (Debian: apt-get install chromium; .ci/run installs it)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    with sync_api.sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        except Exception as err:  # noqa: BLE001  any launch failure is a reason to skip, named
            pytest.skip(f"chromium {CHROMIUM} does not start headless: {err}")
        yield browser
        browser.close()


def page_problems(browser, path: pathlib.Path, *, settle_ms: int = 1500) -> tuple[list[str], str]:
    """Open ``path``; return what went wrong (console errors, page errors, failed requests) and
    the text the page shows."""
    problems: list[str] = []
    page = browser.new_page()
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda err: problems.append(f"uncaught: {err}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url[:120]} ({r.failure})"))
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(settle_ms)
    text = page.inner_text("body")
    page.close()
    return problems, text


def _stderr_outputs(notebook: pathlib.Path) -> list[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return [
        "".join(output.get("text", ""))[:200]
        for cell in cells
        for output in cell.get("outputs", [])
        if output.get("name") == "stderr"
    ]


def _check_notebook(browser, results: pathlib.Path, *, sections: tuple[str, ...]) -> None:
    assert _stderr_outputs(results / "validation.ipynb") == []
    problems, text = page_problems(browser, results / "validation.html")
    assert problems == []
    for heading in sections:
        assert heading in text
    assert (results / "validation.html").read_text().count("data:image/png") >= 8  # the figures are inline


COMMON_SECTIONS = (
    "Cut flow",
    "Fit variable at the fit's binning",
    "Data vs. MC, N-1 distributions",
    "Signal efficiency and resolution",
    "Calibration on pseudo-experiments",
)


def test_zprime_validation_notebook_loads_clean(browser, built):
    _check_notebook(browser, built / "results" / "zprime_invisible", sections=(*COMMON_SECTIONS, "MVA selection"))


@pytest.mark.parametrize("channel", ["alp_gammagamma", "dark_higgsstrahlung", "darkphoton_invisible", "lfv_zprime"])
def test_side_channel_validation_notebooks_load_clean(browser, built_side_channels, channel):
    _check_notebook(browser, built_side_channels / "results" / channel, sections=COMMON_SECTIONS)


def test_report_loads_clean_with_per_channel_captions(browser, built, tmp_path):
    report = tmp_path / "report.html"
    run_snakemake(built, "--report", str(report), "--configfile", str(TINY))
    html = report.read_text()
    # the captions are written per channel when the report is built (darkscan.report)
    assert "Largest local excess: Z_local =" in html and "background-only pseudo-data" in html
    assert "Search for an invisibly decaying Z" in html
    problems, text = page_problems(browser, report, settle_ms=3000)
    assert problems == []
    assert "Results" in text and "darkscan rebuilds dark-sector searches" in text  # the React page rendered
