"""The committed notebook as nbviewer shows it, with no kernel: the picture, the links, the slider.

`jupyter nbconvert --to html` renders the committed notebook as nbviewer does (outputs as they
are, scripts included); headless Chromium opens that file with the network cut off. The first
section's picture is drawn, every link of the table of contents and every section reference lands
on an element of the page, and section 11's slider shows a frame and a length of its own at every
position. Needs what tests/test_browser.py needs (Debian's chromium, playwright); without them it
fails, saying so.
"""

import re
import subprocess
import sys

import pytest
import test_browser as browser

import nbrun

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # reported by browser.test_chromium_and_playwright_are_installed
    expect = sync_playwright = None


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The committed notebook as nbconvert renders it, open in Chromium with no network."""
    browser.test_chromium_and_playwright_are_installed()
    folder = tmp_path_factory.mktemp("static")
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--output-dir",
         str(folder), str(nbrun.NOTEBOOK)],
        check=True, capture_output=True,
    )  # fmt: skip
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=browser.CHROMIUM, args=browser.CHROMIUM_ARGS
        )
        try:
            page = chromium.new_page(viewport={"width": 1400, "height": 1000})
            page.route(re.compile(r"^https?://"), lambda route: route.abort())  # offline
            page.goto((folder / "rnn_sum.html").as_uri())
            yield page
        finally:
            chromium.close()


def test_the_picture_of_the_shapes_is_drawn(page):
    sketch = page.locator(".jp-OutputArea-output img").first  # section 1's picture, the first
    sketch.scroll_into_view_if_needed()
    expect(sketch).to_be_visible()
    assert sketch.evaluate("img => img.complete && img.naturalWidth > 600")
    heading = page.locator("h2", has_text="1. The fix")
    assert heading.evaluate("h => h.getBoundingClientRect().top") < sketch.evaluate(
        "img => img.getBoundingClientRect().top"
    )


def test_every_link_within_the_page_lands_on_an_element(page):
    targets = page.evaluate(
        "() => [...document.querySelectorAll('a[href^=\"#\"]')].map(a => a.getAttribute('href'))"
    )
    assert len([t for t in targets if re.match(r"#\d+\.", t)]) >= 12  # sections 1 to 12
    for target in targets:
        found = page.evaluate(
            "id => document.getElementById(decodeURIComponent(id)) !== null", target[1:]
        )
        assert found, f"the link {target} lands nowhere"


def test_the_slider_without_a_kernel_moves_through_the_committed_frames(page):
    slider = page.locator("#sweep-slider")
    expect(slider).to_have_count(1)
    slider.scroll_into_view_if_needed()
    image, label, knob = slider.locator("img"), slider.locator("b"), slider.locator("input")
    expect(image).to_be_visible()
    seen = {(label.inner_text(), image.get_attribute("src"))}
    top = int(knob.get_attribute("max"))
    for position in range(top + 1):
        knob.fill(str(position))  # what dragging does: the input event, value by value
        seen.add((label.inner_text(), image.get_attribute("src")))
    assert image.evaluate("img => img.complete && img.naturalWidth > 300")
    shown = sorted(int(length) for length, _ in seen)
    frames = {src for _, src in seen}
    assert len(frames) == top + 1 == len(set(shown)), "every position shows a frame of its own"
    assert min(shown) <= 10 and max(shown) >= 100, shown
