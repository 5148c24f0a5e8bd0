"""The report in a real browser: headless Chromium, network off, hostile corpus text in every section.

Checks what a reader's browser does with the file: it requests nothing but the file itself and
its ``data:`` figures, logs no console error, runs no script from the data (the injected scripts
would set ``window.__pwned`` or open an alert), and draws a page that is not blank; and what a
reader sees first: at 1280x800 the first screen shows the findings and the start of the
per-source scorecard, and the pipeline's report of the default corpus is under about 6,000 pixels
before any folded part is opened. With ``NEWSAUDIT_SCREENSHOTS=DIR`` the first screens are saved
there (how ``docs/screenshots/`` is made).

Needs Debian's Chromium and the ``playwright`` Python package (which drives it; its own browser
download is not used): ``apt-get install chromium`` and ``pip install playwright``.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from newsaudit.core.config import load_params
from newsaudit.report.figures import bars
from newsaudit.report.render import render_audit_report, render_pipeline_report, write_figures

CHROMIUM = Path(os.environ.get("NEWSAUDIT_CHROMIUM", "/usr/bin/chromium"))
# Flags that keep Chromium from calling home (component updates, sync, field trials...); with
# them the only requests are the page's own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
]
CSP = '<meta http-equiv="Content-Security-Policy"'
ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "src" / "newsaudit" / "templates"
VIEWPORT = {"width": 1280, "height": 800}
MAX_HEIGHT = 6200  # the issue: "under about 6,000 pixels"; measured 6,046 on the default corpus (2026-12-01)
# The pipeline's report (after `make repro`); another file can be checked the same way.
PIPELINE_REPORT = Path(os.environ.get("NEWSAUDIT_PIPELINE_REPORT", ROOT / "reports" / "index.html"))
SCREENSHOTS = os.environ.get("NEWSAUDIT_SCREENSHOTS")

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="playwright is not installed: pip install playwright (the browser is Debian's chromium)",
)
if not CHROMIUM.is_file():
    pytest.skip(
        f"{CHROMIUM} not found: install it with `apt-get install chromium` "
        "(or set NEWSAUDIT_CHROMIUM to a Chromium binary)",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as pw:
        # A fresh profile each run: no cached state, no first-run network.
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            offline=True,
            viewport=VIEWPORT,
        )
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


def visit(context, path: Path) -> dict:
    """Open ``path`` and record every request, console error, page error and dialog."""
    seen = {"requests": [], "console_errors": [], "page_errors": [], "dialogs": []}
    page = context.new_page()
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("console", lambda m: m.type == "error" and seen["console_errors"].append(m.text))
    page.on("pageerror", lambda e: seen["page_errors"].append(str(e)))

    def on_dialog(dialog):
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    # Anything that is not the file itself or inline data is refused before it reaches the network.
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(("file:", "data:")) else route.abort()
        ),
    )
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(300)  # let an onerror handler or a late script fire, if one could
    seen["pwned"] = page.evaluate("() => window.__pwned === undefined ? null : String(window.__pwned)")
    seen["images_ok"] = page.evaluate(
        "() => Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)"
    )
    seen["h1"] = page.inner_text("h1")
    seen["text"] = page.inner_text("body")
    seen["screenshot"] = page.screenshot(full_page=False)
    seen["height"] = page.evaluate("() => document.documentElement.scrollHeight")
    seen["width"] = page.evaluate("() => document.documentElement.scrollWidth")
    # Where the findings and the first rows of the scorecard are drawn (None when absent).
    seen["boxes"] = {
        name: page.locator(selector).first.bounding_box() if page.locator(selector).count() else None
        for name, selector in (
            ("findings", "ul.findings"),
            ("card_head", "table.card thead"),
            ("card_row_1", "table.card tbody tr:nth-child(1)"),
            ("card_row_3", "table.card tbody tr:nth-child(3)"),
        )
    }
    seen["findings_visible"] = (
        page.locator("ul.findings").is_visible() if seen["boxes"]["findings"] else False
    )
    page.close()
    return seen


def assert_first_screen(seen: dict, name: str) -> None:
    """The findings, whole, and the scorecard's header and first rows lie inside the first screen."""
    boxes = seen["boxes"]
    assert seen["findings_visible"], boxes
    assert boxes["findings"]["y"] + boxes["findings"]["height"] <= VIEWPORT["height"], boxes
    assert boxes["card_head"]["y"] < VIEWPORT["height"], boxes
    first_row = boxes["card_row_1"]
    assert first_row["y"] + first_row["height"] <= VIEWPORT["height"], boxes
    assert seen["width"] <= VIEWPORT["width"]  # nothing wider than the screen
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        (Path(SCREENSHOTS) / f"{name}.png").write_bytes(seen["screenshot"])


def distinct_colours(png: bytes) -> int:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 24))


def assert_safe_and_rendered(seen: dict) -> None:
    leaving = [u for u in seen["requests"] if not u.startswith(("file:", "data:"))]
    assert leaving == []
    assert seen["console_errors"] == [] and seen["page_errors"] == []
    assert seen["dialogs"] == [] and seen["pwned"] is None
    assert seen["images_ok"] and all(seen["images_ok"])
    # A blank or unstyled page has a handful of colours; text, tables and figures have many.
    assert distinct_colours(seen["screenshot"]) > 30


def render_project(root: Path) -> tuple[str, dict[str, str]]:
    return render_pipeline_report(root, load_params(root / "params.yaml"))


def test_pipeline_report_in_chromium(browser, project, hostile, tmp_path):
    path = tmp_path / "index.html"
    path.write_text(render_project(project)[0], encoding="utf-8")
    seen = visit(browser, path)
    assert_safe_and_rendered(seen)
    assert seen["h1"] == "newsaudit report"
    assert len(seen["images_ok"]) >= 6
    for markup in hostile:
        assert markup in seen["text"]
    assert_first_screen(seen, "fixture-report")


def test_escaping_alone_keeps_scripts_inert(browser, project, tmp_path):
    # The report's Content-Security-Policy would block a script that slipped through; without it,
    # escaping must still be enough.
    html = render_project(project)[0]
    assert CSP in html
    path = tmp_path / "no-csp.html"
    path.write_text("\n".join(line for line in html.split("\n") if CSP not in line), encoding="utf-8")
    assert_safe_and_rendered(visit(browser, path))


def test_audit_report_in_chromium(browser, tmp_path, hostile, audited_pages):
    summary = {"corpus": "crawl", "ingest": {"inputs": 3}, "steps": ["ingest"], "skipped_steps": {}}
    path = tmp_path / "report.html"
    path.write_text(render_audit_report(audited_pages(), summary), encoding="utf-8")
    seen = visit(browser, path)
    assert_safe_and_rendered(seen)
    assert hostile[0] in seen["text"]


def test_small_audit_first_screen(browser, small_audit):
    """`newsaudit audit CORPUS --out DIR --report` on the small corpus: the same first screen."""
    seen = visit(browser, small_audit / "report.html")
    assert_safe_and_rendered(seen)
    assert_first_screen(seen, "audit-small-corpus")
    assert "89 pages read, 2 rejected" in seen["text"]


@pytest.mark.pipeline
def test_pipeline_report_first_screen_and_height(browser):
    """The pipeline's report of the default corpus: findings and scorecard on the first screen,
    the whole page (every <details> closed) under MAX_HEIGHT pixels."""
    if not PIPELINE_REPORT.is_file():
        pytest.skip(f"{PIPELINE_REPORT} not built yet: run `make repro` (the report stage) first")
    seen = visit(browser, PIPELINE_REPORT)
    assert_safe_and_rendered(seen)
    assert_first_screen(seen, "default-corpus")
    assert seen["boxes"]["card_row_3"]["y"] < VIEWPORT["height"]  # several sources, not just one
    assert seen["height"] < MAX_HEIGHT, f"{seen['height']} px tall"


def test_dvc_plots_show_renders_offline(browser, project, tmp_path):
    """`dvc plots show` with the project's template: image plots and a data plot, no network."""
    template = TEMPLATES / "dvc_plots.html"
    repo = tmp_path / "repo"
    figures = write_figures(render_project(project)[1], repo / "reports/plots/report")
    data = repo / "reports/plots/evaluate/roc.csv"
    data.parent.mkdir(parents=True)
    data.write_text("fpr,tpr\n0,0\n0.1,0.8\n1,1\n")
    plots = "".join(f"  - {p.relative_to(repo)}\n" for p in figures)
    (repo / "dvc.yaml").write_text(
        "plots:\n"
        + plots
        + "  - roc data:\n      x: fpr\n      y:\n        reports/plots/evaluate/roc.csv: tpr\n"
    )
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    dvc = [sys.executable, "-m", "dvc"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*dvc, "init", "-q"], cwd=repo, check=True, env=env)
    subprocess.run(
        [*dvc, "plots", "show", "--html-template", str(template)],
        cwd=repo,
        check=True,
        env=env,
        capture_output=True,
    )
    page = repo / "dvc_plots" / "index.html"
    assert "cdn." not in page.read_text(encoding="utf-8")
    seen = visit(browser, page)
    assert_safe_and_rendered(seen)
    assert len(seen["images_ok"]) == len(figures)
    assert "roc data: 3 data points" in seen["text"]


def test_notebook_export_with_the_offline_template(browser, tmp_path, hostile):
    """Notebook HTML exports (nbconvert --no-input) follow the report's rule: nothing from the network."""
    import nbformat
    from nbconvert import HTMLExporter
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (40, 20), (30, 119, 180)).save(png, format="PNG")
    code = nbformat.v4.new_code_cell("pages.head()")
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=hostile[0] + "\n"),
        nbformat.v4.new_output(
            "display_data",
            data={"image/png": base64.b64encode(png.getvalue()).decode(), "text/plain": "<Figure>"},
        ),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": bars(["a", "b"], [1, 2], "t", "x")}),
    ]
    text = nbformat.v4.new_markdown_cell("# Corpus quality\nSome $x^2$ text.")
    nb = nbformat.v4.new_notebook(cells=[text, code])
    exporter = HTMLExporter(template_file=str(TEMPLATES / "nbconvert_offline.html.j2"), exclude_input=True)
    html, _ = exporter.from_notebook_node(nb)
    assert "<script src=" not in html and "cdnjs" not in html
    path = tmp_path / "01-corpus-quality.html"
    path.write_text(html, encoding="utf-8")
    seen = visit(browser, path)
    assert [u for u in seen["requests"] if not u.startswith(("file:", "data:"))] == []
    assert seen["console_errors"] == [] and seen["page_errors"] == [] and seen["pwned"] is None
    assert seen["images_ok"] and all(seen["images_ok"])
    assert hostile[0] in seen["text"] and "pages.head()" not in seen["text"]


PROJECT_REPORTS = sorted((Path(__file__).resolve().parents[2] / "reports").glob("*.html"))


@pytest.mark.parametrize("path", PROJECT_REPORTS or [None], ids=lambda p: p.name if p else "none")
def test_generated_reports_in_chromium(browser, path):
    """The pipeline's own reports/*.html (the report, notebook exports), once `dvc repro` made them."""
    if path is None:
        pytest.skip("no reports/*.html yet: run `make repro` (the report stage) first")
    seen = visit(browser, path)
    assert [u for u in seen["requests"] if not u.startswith(("file:", "data:"))] == []
    assert seen["console_errors"] == [] and seen["page_errors"] == [] and seen["dialogs"] == []
    assert all(seen["images_ok"])
    assert distinct_colours(seen["screenshot"]) > 30
