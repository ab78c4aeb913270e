"""The dashboard at /ui in a real headless Chromium: Debian's ``chromium`` package (installed by
.ci/run, never downloaded by the tests), driven by Playwright, against the live stack.

A person's path: the catalogue's card and its picture, the diagram's page, the learning-curve form
with the service's defaults, submitting it, the live progress, the finished plot, the jobs list.
Any console error or uncaught exception in the page fails the test. Screenshots go to
$TLPROBE_SCREENSHOTS when set (else the test's temporary directory)."""

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from rq.job import Job
from rq.serializers import JSONSerializer

from devtools.stack import Api
from tests.integration.conftest import TOKENS
from tlprobe import Client
from tlprobe.contract.jobs import JobStatus
from tlprobe.contract.learning_curve import LearningCurveRequest
from tlprobe.kinds import KINDS

pytestmark = pytest.mark.e2e
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# lambda fixed at 0.1 (not the oracle, where the default theory runs): there feature noise 1 makes tf lose to rf, so the
# boundary the page draws is not empty
DIAGRAM = {"source": {"latent_dim": 10, "input_dim": 40, "seed": 901}, "readout": {"regularisation": 0.1},
           "network": {"hidden_units": 30, "n_samples": 400, "epochs": 60}, "theory": {"mc_samples": 4000},
           "x_axis": {"name": "alpha", "values": [0.25, 0.5, 1.0, 2.0, 4.0]},
           "y_axis": {"name": "feature_noise", "values": [0.0, 0.5, 1.0]}}
#: what the test types into the form (everything else stays at the defaults shown)
TYPED = {"source.latent_dim": "10", "source.input_dim": "40", "source.seed": "902", "network.hidden_units": "60",
         "network.n_samples": "2000", "network.epochs": "3000", "alphas": "0.5, 2", "theory.mc_samples": "4000",
         "simulation.seeds": "2", "simulation.test_samples": "1000"}
LOADED = "img => img.complete && img.naturalWidth > 0"
# a larger grid at tiny sizes, a fixed lambda and the linear baseline (its closed-form spectra need one solve per
# cell): 24 x 13 cells in seconds, more values than the page lists
LARGE = {"source": {"latent_dim": 4, "input_dim": 16, "seed": 903}, "readout": {"regularisation": 0.1},
         "network": {"hidden_units": 8, "n_samples": 120, "epochs": 20}, "theory": {"mc_samples": 1000},
         "baseline": "linear", "x_axis": {"name": "alpha", "values": [0.25 * (i + 1) for i in range(13)]},
         "y_axis": {"name": "feature_noise", "values": [i / 23 for i in range(24)]}}


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium (.ci/run installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.problems = []
    page.on("console", lambda message: message.type == "error" and page.problems.append(message.text))
    page.on("pageerror", lambda error: page.problems.append(f"uncaught: {error}"))
    yield page
    context.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("TLPROBE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def flat(data: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def as_shown(value):
    """A default as the form shows it, parsed back: numbers, lists of numbers, text, null as ''."""
    if value is None or value == "":
        return None
    if isinstance(value, list):
        return [as_shown(v) for v in value]
    if isinstance(value, str) and "," in value:
        return [as_shown(v) for v in value.split(",")]
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


FORM_VALUES = """() => Array.from(document.querySelectorAll('#learning-curve-form .field')).map(field => {
  const boxes = field.querySelectorAll('.checks input');
  const select = field.querySelector('select');
  const value = boxes.length ? Array.from(boxes).filter(b => b.checked).map(b => b.value)
              : select ? select.value : field.querySelector('input').value;
  return [field.dataset.path, value];
})"""
RECORD_PROGRESS = """() => {
  window.__states = [];
  const record = () => document.querySelectorAll('.following .job').forEach(job => window.__states.push(
    [job.querySelector('.status').textContent, job.querySelector('.stage').textContent, job.querySelector('.fill').style.width]));
  new MutationObserver(record).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def test_catalogue_diagram_page_and_the_learning_curve_form(live, page, shots):
    url = live["api"].url
    with Client(url) as client:
        diagram_id = client.phase_diagram(DIAGRAM, wait=False).job_id
        assert client.wait(diagram_id).status is JobStatus.finished
        diagram = client.result(diagram_id)

    # the catalogue: a card with its picture, axes, baseline and fixed parameters
    page.goto(f"{url}/ui")
    card = page.locator(f'.card[data-diagram="{diagram_id}"]')
    expect(card).to_be_visible()
    page.wait_for_function(LOADED, arg=card.locator("img").element_handle(), timeout=30_000)
    assert card.locator(".title").inner_text() == "feature_noise \u00d7 alpha"
    assert card.locator(".chip").all_inner_texts() == ["3\u00d75 cells", "baseline rf", "tf rf", "complete"]
    assert card.locator(".params").inner_text() == "D=10 N=40 K=30 n_s=400 \u00b7 logistic lambda=0.1"
    page.select_option("select[name=y_axis]", "teacher_noise")  # filtered like GET /v1/phase-diagrams
    page.click(".filters button")
    expect(page).to_have_url(re.compile(r"/ui#/\?y_axis=teacher_noise$"))
    expect(page.locator(".page h1")).to_have_text("Computed phase diagrams")
    expect(card).to_have_count(0)
    page.select_option("select[name=y_axis]", "feature_noise")
    page.fill("input[name=range]", "source.seed:901:901 network.n_samples::400")
    page.click(".filters button")
    expect(card).to_be_visible()
    assert page.locator(".card").count() == 1
    page.screenshot(path=shots / "catalogue.png", full_page=True)

    # the diagram's page: the picture, the boundary, the parameters, the links
    page.locator(f'.card[data-diagram="{diagram_id}"]').click()
    picture = page.locator("img.diagram-picture")
    expect(picture).to_be_visible()
    page.wait_for_function(LOADED, arg=picture.element_handle(), timeout=30_000)
    rows = [row.split("\t") for row in page.locator(".boundary tbody tr").all_inner_texts()]
    assert rows == [[f"{row.y:g}", ", ".join(f"{c:.3f}" for c in row.crossings) or "none"] for row in diagram.boundary]
    assert any(row.crossings for row in diagram.boundary)  # feature noise 1 crosses, so the boundary is not empty
    links = {a.inner_text(): a.get_attribute("href") for a in page.locator(".links a").all()}
    base = f"/v1/phase-diagrams/{diagram_id}"
    assert links == {"CSV": f"{base}?format=csv", "PNG": f"{base}.png", "SVG": f"{base}.svg", "JSON": base}
    parameters = dict(row.split("\t") for row in page.locator(".panel table").last.locator("tbody tr").all_inner_texts())
    assert parameters["source.seed"] == "901" and parameters["network.n_samples"] == "400"
    assert parameters["theory.mc_samples"] == "4000" and parameters["baseline"] == "rf"
    page.screenshot(path=shots / "diagram.png", full_page=True)

    # the form: every default shown is the contract's own
    page.click('nav a[data-nav="new"]')
    expect(page.locator("#learning-curve-form")).to_be_visible()
    shown = {path: as_shown(value) for path, value in page.evaluate(FORM_VALUES)}
    defaults = {path: as_shown(value) for path, value in flat(LearningCurveRequest().model_dump(mode="json")).items()}
    assert shown == defaults
    assert page.is_checked("legend input[name=theory]") and page.is_checked("legend input[name=simulation]")
    for path, text in TYPED.items():
        page.fill(f"#field-{path.replace('.', '-')}", text)
    expected = LearningCurveRequest.model_validate(
        {"source": {"latent_dim": 10, "input_dim": 40, "seed": 902},
         "network": {"hidden_units": 60, "n_samples": 2000, "epochs": 3000}, "alphas": [0.5, 2.0],
         "theory": {"mc_samples": 4000}, "simulation": {"seeds": 2, "test_samples": 1000}})
    preview = json.loads(page.locator("pre.request-preview").inner_text())
    assert LearningCurveRequest.model_validate(preview) == expected

    # submit, follow the progress, see the plot
    page.evaluate(RECORD_PROGRESS)
    page.click("button[type=submit]")
    job_id = KINDS["learning_curve"].job_id(expected)
    expect(page.locator(f'.following .job[data-job="{job_id}"]')).to_be_visible()
    try:
        page.wait_for_function("() => document.querySelector('.following .status')?.textContent === 'started'",
                               timeout=20_000)
        page.screenshot(path=shots / "progress.png", full_page=False)
    finally:
        expect(page.locator(".following .status")).to_have_text("finished", timeout=120_000)
    plot = page.locator("img.result-plot")
    expect(plot).to_be_visible()
    page.wait_for_function(LOADED, arg=plot.element_handle(), timeout=30_000)
    states = page.evaluate("window.__states")
    during = [(stage, width) for status, stage, width in states if status == "started" and stage.startswith("source_network")]
    counts = [(int(m.group(1)), float(width[:-1])) for stage, width in during
              if (m := re.fullmatch(r"source_network (\d+)/3000", stage)) and width]
    assert any(0 < n < 3000 for n, _ in counts), states  # 3000 epochs: ~6 s on an idle core
    # the bar shows the count (the browser keeps six significant digits of a CSS percentage)
    assert all(width == pytest.approx(100 * n / 3000, abs=1e-3) for n, width in counts)
    with Client(url) as client:
        result = client.result(job_id)
    for row in page.locator(".result table tbody tr").all_inner_texts():
        protocol, alpha, theory, simulation, sem = row.split("\t")
        curve, i = result.curves[protocol], result.alphas.index(float(alpha))
        assert float(theory) == pytest.approx(curve.theory.test_error[i], abs=5e-5)
        assert float(simulation) == pytest.approx(curve.simulation.test_error_mean[i], abs=5e-5)
    assert page.locator(".result table tbody tr").count() == 3 * 2
    page.screenshot(path=shots / "learning_curve.png", full_page=True)
    page.locator(".following").screenshot(path=shots / "learning_curve_result.png")

    # the jobs this browser knows, with their state
    page.click('nav a[data-nav="jobs"]')
    expect(page.locator(f'.jobs .job[data-job="{job_id}"] .status')).to_have_text("finished")
    expect(page.locator(f'.jobs .job[data-job="{diagram_id}"]')).to_have_count(0)  # computed elsewhere: not this browser's
    page.screenshot(path=shots / "jobs.png")
    assert page.problems == []


def test_a_large_tiled_diagram_and_its_tiles(live, page, shots, tmp_path):
    # an API packing a diagram into about 4 tiles: 312 cells in tiles of 6 rows (6 learning curves of 13 alphas)
    api = Api(live["api"].env["TLPROBE_REDIS_URL"], log_path=tmp_path / "api.log", TLPROBE_DIAGRAM_TILES="4").start()
    try:
        with Client(api.url) as client:
            diagram_id = client.phase_diagram(LARGE, wait=False).job_id
            assert client.wait(diagram_id, timeout=300).status is JobStatus.finished
            diagram = client.result(diagram_id)
        page.goto(f"{api.url}/ui#/diagrams/{diagram_id}")
        picture = page.locator("img.diagram-picture")
        page.wait_for_function(LOADED, arg=picture.element_handle(), timeout=30_000)
        axes = [[cell.strip() for cell in row.split("\t")] for row in page.locator("table.axes tbody tr").all_inner_texts()]
        assert axes == [["x", "alpha", "13 values from 0.25 to 3.25"], ["y", "feature_noise", "24 values from 0 to 1"]]
        page.locator("table.axes summary").first.click()  # unfolds every value
        assert page.locator("table.axes details").first.inner_text().endswith("2.75, 3, 3.25")
        rows = [row.split("\t") for row in page.locator(".boundary tbody tr").all_inner_texts()]
        assert [float(y) for y, _ in rows] == pytest.approx([row.y for row in diagram.boundary], abs=1e-6)
        crossing = sum(bool(row.crossings) for row in diagram.boundary)
        expect(page.locator(".boundary").locator("xpath=preceding-sibling::p[1]")).to_contain_text(
            f"({crossing} of 24 rows cross)")
        assert page.evaluate("() => { const b = document.querySelector('.boundary'); return b.scrollHeight > b.clientHeight; }")
        page.screenshot(path=shots / "large_diagram.png", full_page=True)
        # a tile's page lists its learning curves, each one a learning curve's page with its plot
        tiles = [part for part in plan_of(live["redis"], diagram_id)["parts"] if part["kind"] == "diagram_tile"]
        assert len(tiles) == 4
        page.goto(f"{api.url}/ui#/jobs/{tiles[1]['job_id']}")
        links = page.locator(".result tbody a")
        expect(links).to_have_count(6)
        links.nth(2).click()
        plot = page.locator("img.result-plot")
        expect(plot).to_be_visible()
        page.wait_for_function(LOADED, arg=plot.element_handle(), timeout=30_000)
        assert page.locator(".result table tbody tr").count() == 13 * 2  # tf and linear at 13 alphas
        assert page.problems == []
    finally:
        api.stop()


def plan_of(redis, diagram_id: str) -> dict:
    """The plan recorded in the diagram job's meta at submission."""
    return Job.fetch(diagram_id, connection=redis, serializer=JSONSerializer).meta["plan"]


def test_with_protected_reads_the_page_asks_for_a_token(live, protected_api, page, shots):
    with Client(protected_api.url, TOKENS[0]) as client:
        diagram_id = client.phase_diagram(DIAGRAM, wait=False).job_id
        assert client.wait(diagram_id).status is JobStatus.finished
    page.goto(f"{protected_api.url}/ui")
    form = page.locator("#token-form")
    expect(form).to_be_visible()
    expect(form).to_contain_text("a bearer token is required")
    assert page.locator(".card").count() == 0  # nothing is shown without a token
    page.screenshot(path=shots / "token.png")
    page.fill("#token-input", "not-a-token")
    page.click("#token-form button")
    expect(form).to_contain_text("invalid bearer token")
    page.fill("#token-input", TOKENS[0])
    page.click("#token-form button")
    card = page.locator(f'.card[data-diagram="{diagram_id}"]')
    expect(card).to_be_visible()
    page.wait_for_function(LOADED, arg=card.locator("img").element_handle(), timeout=30_000)  # fetched with the token
    page.click("#auth a")  # forget it
    expect(page.locator("#token-form")).to_be_visible()
    # the only console errors: the browser's own notes of the refused (401) requests
    assert page.problems and all("status of 401" in problem for problem in page.problems), page.problems
