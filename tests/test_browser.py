"""End to end: the notebook in JupyterLab and headless Chromium, used as a reader uses it.

A copy of the notebook with small parameters is served by JupyterLab on 127.0.0.1 from a
temporary folder, with its own config, data and runtime folders (no user settings, nothing
fetched from the internet), and opened in Chromium through Playwright. The browser runs all
cells from the menu, types a length into the live slider's box, double-clicks Train and checks
what a reader sees: the disabled button and the progress bar while the run trains, then one run
only, the plot, a table row per model, the bar reading "done", the button enabled again, and no
widget or JavaScript error. Every process it starts (server, kernel, browser) is stopped at the
end, also when a check fails.

It needs Debian's `chromium` (`.ci/apt-packages.txt`; another binary with CHROMIUM=/path) and
the pinned `playwright` of requirements-dev.txt; without either it FAILS, saying what to install.

    python -m pytest tests/test_browser.py -s     # -s prints the live runs' times
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

import nbrun
from conftest import SMALL

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # reported as a failure by test_chromium_and_playwright_are_installed
    expect = sync_playwright = PlaywrightTimeout = None

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [  # headless as root in a container, and no connection beyond 127.0.0.1
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PARAMS = dict(SMALL, STEPS=30)  # the run-all quick; a live run trains its own LIVE steps
LENGTHS = (20, 60)  # typed into the box, one double-click each
NOTEBOOK = "rnn_sum.ipynb"
# JupyterLab's own settings for this server: no news, no update check (they would go online)
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": (
        '{"fetchNews": "false", "checkForUpdates": false}'
    ),
}
INSTALL_HINT = (
    "the browser test needs Debian's chromium (`apt-get update && apt-get install -y chromium`, "
    "as .ci/run does from .ci/apt-packages.txt; or CHROMIUM=/path/to/chromium) and playwright "
    "(`pip install -r requirements-dev.txt`)"
)

# Recorded in the page: every state of the live widget a reader could have seen, one entry per
# change, from a MutationObserver (a run is too quick to be caught reliably by polling).
OBSERVE = """area => {
  window.liveStates = [];
  const snap = () => {
    const button = area.querySelector('.widget-button');
    const bar = area.querySelector('.widget-hprogress');
    const state = {
      t: Math.round(performance.now()),
      disabled: button.disabled,
      label: bar.querySelector('.widget-label').textContent.trim(),
      value: Number(bar.querySelector('.progress-bar').style.width.replace('%', '') || 0),
      success: bar.querySelectorAll('.progress-bar-success').length,
      images: area.querySelectorAll('.widget-output img').length,
    };
    const last = window.liveStates[window.liveStates.length - 1];
    const same = last && Object.keys(state).every(k => k === 't' || last[k] === state[k]);
    if (!same) window.liveStates.push(state);
  };
  snap();
  new MutationObserver(snap).observe(
    area, {subtree: true, childList: true, attributes: true, characterData: true});
}"""

# How far Run All got: code cells with a number in their prompt, and error outputs
PROGRESS = """() => ({
  numbered: [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .filter(e => /\\[\\d+\\]/.test(e.textContent)).length,
  errors: [...document.querySelectorAll('.jp-OutputArea-output')]
    .filter(e => e.dataset.mimeType === 'application/vnd.jupyter.stderr')
    .map(e => e.textContent.slice(0, 2000)),
})"""


def test_chromium_and_playwright_are_installed():
    assert sync_playwright is not None, "playwright is not installed: " + INSTALL_HINT
    assert os.access(CHROMIUM, os.X_OK), f"no Chromium at {CHROMIUM}: " + INSTALL_HINT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def our_processes(marker: str) -> list[int]:
    """Processes whose command line names our temporary folder: the server and its kernel."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            with contextlib.suppress(OSError):
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(entry.name))
    return pids


def stop_server(server: subprocess.Popen, folder: Path) -> None:
    """SIGTERM (the server then shuts its kernel down), then SIGKILL whatever is left."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=20)
    if server.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    for pid in our_processes(str(folder)):  # a kernel the server could not stop
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a copy of the notebook with small parameters; its URL and log."""
    test_chromium_and_playwright_are_installed()  # before starting anything
    folder = tmp_path_factory.mktemp("browser")
    root = folder / "root"
    root.mkdir()
    nbformat.write(nbrun.load(PARAMS, script=False), root / NOTEBOOK)
    for name, text in USER_SETTINGS.items():
        path = folder / "config" / "lab" / "user-settings" / name
        path.parent.mkdir(parents=True)
        path.write_text(text)
    env = dict(
        os.environ,
        # the python3 kernel spec runs `python`: make it this interpreter
        PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        JUPYTER_CONFIG_DIR=str(folder / "config"),
        JUPYTER_DATA_DIR=str(folder / "data"),
        JUPYTER_RUNTIME_DIR=str(folder / "runtime"),
        IPYTHONDIR=str(folder / "ipython"),
    )
    port, token = free_port(), secrets.token_hex(16)
    log = folder / "jupyterlab.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root"),
                *("--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0"),
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.extension_manager=readonly",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, to stop it whole
        )
    base = f"http://127.0.0.1:{port}"
    try:
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, f"JupyterLab exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"JupyterLab silent:\n{log.read_text()[-3000:]}"
            with contextlib.suppress(OSError):
                direct.open(f"{base}/api/status?token={token}", timeout=2).close()
                break
            time.sleep(0.3)
        yield dict(url=f"{base}/lab/tree/{NOTEBOOK}?token={token}", log=log, folder=folder)
    finally:
        stop_server(server, folder)
        left = our_processes(str(folder))
        assert not left, f"processes left running: {left}"


def watch_kernel(websocket, errors: list) -> None:
    """Record every error message the kernel sends, e.g. a traceback from a widget callback,
    which JupyterLab shows only in its log console."""

    def frame(payload):
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
        if re.search(r'"msg_type":\s*"error"', text):
            found = re.search(r'"ename":\s*"([^"]*)",\s*"evalue":\s*"((?:[^"\\]|\\.)*)"', text)
            errors.append("kernel error: " + (": ".join(found.groups()) if found else text[:500]))

    websocket.on("framereceived", frame)


def evidence(lab, page, console) -> None:
    """What a failure leaves behind: a screenshot, the console, the server's and kernel's log."""
    with contextlib.suppress(Exception):
        shot = lab["folder"] / f"failure-{time.strftime('%H%M%S')}.png"
        page.screenshot(path=shot, full_page=True)
        print(f"\nscreenshot: {shot}")
    print("the page's console and the kernel's errors, last lines:\n" + "\n".join(console[-30:]))
    print(f"{lab['log']} (server and kernel), last lines:\n{lab['log'].read_text()[-4000:]}")


@pytest.fixture(scope="module")
def notebook(lab):
    """The notebook open in Chromium after Run All: the page, and what its console said."""
    test_chromium_and_playwright_are_installed()
    console, ready, page = [], False, None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(20_000)
            page.on("console", lambda m: console.append(f"console.{m.type}: {m.text}"))
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            page.on("websocket", lambda ws: watch_kernel(ws, console))
            started = time.perf_counter()
            page.goto(lab["url"])
            expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=90_000)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            code_cells = sum(c.cell_type == "code" for c in nbrun.load(PARAMS, script=False).cells)
            page.wait_for_function(
                f"() => (p => p.errors.length || p.numbered === {code_cells})(({PROGRESS})())",
                timeout=300_000,
            )
            print(f"\nJupyterLab opened and ran all cells in {time.perf_counter() - started:.1f} s")
            ready = True
            yield dict(page=page, console=console, code_cells=code_cells)
        finally:
            if not ready:
                evidence(lab, page, console)
            browser.close()


@pytest.fixture
def reader(notebook, lab, request):
    """The open notebook, for one test; evidence printed under the test if it fails."""
    failed = request.session.testsfailed
    yield notebook
    if request.session.testsfailed > failed:
        evidence(lab, notebook["page"], notebook["console"])


def live_widget(page):
    """The live slider's VBox: slider, box and button, then the output area."""
    return page.locator(".widget-vbox").filter(has=page.locator(".widget-slider"))


def test_run_all_runs_every_cell_and_shows_the_live_widget(reader):
    page = reader["page"]
    progress = page.evaluate(PROGRESS)
    assert progress["errors"] == [], "a cell failed or wrote to stderr"
    assert progress["numbered"] == reader["code_cells"]
    live = live_widget(page)
    expect(live).to_have_count(1)
    live.scroll_into_view_if_needed()
    expect(live.locator(".widget-slider")).to_be_visible()
    expect(live.locator(".widget-readout")).to_have_text(str(PARAMS["SEQ_LEN"]))
    expect(live.locator(".widget-button")).to_have_text("Train")
    expect(live.locator(".widget-button")).to_be_enabled()


@pytest.mark.parametrize("length", LENGTHS)
def test_a_typed_length_and_a_double_click_train_once(reader, length):
    page = reader["page"]
    live = live_widget(page)
    button, readout = live.locator(".widget-button"), live.locator(".widget-readout")
    live.scroll_into_view_if_needed()
    readout.click()  # the slider's readout takes a typed value
    page.keyboard.press("Control+A")
    page.keyboard.type(str(length))
    page.keyboard.press("Enter")
    expect(live.locator(".noUi-handle")).to_have_attribute("aria-valuenow", f"{length}.0")
    expect(button).to_be_enabled()
    live.evaluate(OBSERVE)
    started = time.perf_counter()
    button.dblclick()  # the second click reaches the kernel before the button is disabled

    try:
        page.wait_for_function("window.liveStates.some(s => s.disabled)", timeout=15_000)
    except PlaywrightTimeout:
        kernel = [m for m in reader["console"] if m.startswith("kernel error")]
        states = page.evaluate("window.liveStates")
        pytest.fail(f"no run started, the button was never disabled: {kernel} {states}")
    done = live.locator(".widget-hprogress .widget-label", has_text="done:")
    expect(done).to_be_visible(timeout=60_000)
    expect(button).to_be_enabled(timeout=10_000)
    waited = time.perf_counter() - started
    page.wait_for_timeout(1500)  # a second run would start within milliseconds of the first
    states = page.evaluate("window.liveStates")

    # one run: the button was disabled once, and the bar said "done" once
    pairs = list(zip(states, states[1:], strict=False))
    runs = sum(not a["disabled"] and b["disabled"] for a, b in pairs)
    assert runs == 1, f"{runs} runs after one double-click: {states}"
    assert sum("done:" not in a["label"] and "done:" in b["label"] for a, b in pairs) == 1
    # while it trained: the button disabled, the bar naming each model as it fills
    training = [s for s in states if s["disabled"]]
    for name in ("RNN", "LSTM"):
        filling = [s["value"] for s in training if s["label"] == name]
        assert filling and max(filling) > min(filling), (name, states)
    # at the end: the button back, the bar full and green, saying done, and the plot
    expect(button).to_be_enabled()
    expect(live.locator(".widget-hprogress .progress-bar-success")).to_have_count(1)
    expect(done).to_have_text(re.compile(r"done: \d+\.\d s"))
    image = live.locator(".widget-output img")
    expect(image).to_have_count(1)
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth > 300")
    kernel_seconds = float(re.search(r"(\d+\.\d) s", done.inner_text()).group(1))
    enabled = next(s for s in states if s["t"] > training[0]["t"] and not s["disabled"])
    disabled = (enabled["t"] - training[0]["t"]) / 1000
    print(
        f"\nlive run at length {length}: {kernel_seconds} s in the kernel, button disabled "
        f"for {disabled:.1f} s in the page, {waited:.1f} s from the double-click until the "
        "test saw it enabled"
    )
    if os.environ.get("SCREENSHOT"):  # the README's picture of the live slider
        live.screenshot(path=os.environ["SCREENSHOT"])


def test_no_widget_or_javascript_error(reader):
    page = reader["page"]
    # JupyterLab first sets section 1's picture to its raw `attachment:` address (the browser
    # cannot load that scheme and says so), then swaps in the attachment's data: harmless only
    # if the picture then shows, which is checked here
    picture = page.locator("img[alt^='The article']")
    expect(picture).to_have_count(1)
    assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
    transient = "console.error: Failed to load resource: net::ERR_UNKNOWN_URL_SCHEME"
    errors = [
        m
        for m in reader["console"]
        if m.startswith(("console.error", "pageerror", "kernel error")) and m != transient
    ]
    assert errors == [], "\n".join(errors)
    assert "Error displaying widget" not in page.locator("body").inner_text()
    expect(page.get_by_text("Error displaying widget")).to_have_count(0)
