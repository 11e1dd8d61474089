"""The committed notebook as nbviewer shows it, with no kernel: its section 8 slider works.

`jupyter nbconvert --to html` renders the committed notebook as nbviewer does (outputs as they
are, scripts included); headless Chromium opens that file with the network cut off, moves the
range input to every position and sees a frame and a length of its own at each. Needs what
tests/test_browser.py needs (Debian's chromium, playwright); without them it fails, saying so.
"""

import re
import subprocess
import sys

import test_browser as browser

import nbrun

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # reported by browser.test_chromium_and_playwright_are_installed
    expect = sync_playwright = None


def test_the_slider_without_a_kernel_moves_through_the_committed_frames(tmp_path):
    """The committed notebook as nbviewer renders it (nbconvert's HTML), with no kernel at all:
    moving the range input swaps the frame and the length shown."""
    browser.test_chromium_and_playwright_are_installed()
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--output-dir",
         str(tmp_path), str(nbrun.NOTEBOOK)],
        check=True, capture_output=True,
    )  # fmt: skip
    page_file = tmp_path / "rnn_sum.html"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=browser.CHROMIUM, args=browser.CHROMIUM_ARGS
        )
        try:
            page = chromium.new_page(viewport={"width": 1400, "height": 1000})
            page.route(re.compile(r"^https?://"), lambda route: route.abort())  # offline
            page.goto(page_file.as_uri())
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
        finally:
            chromium.close()
    shown = sorted(int(length) for length, _ in seen)
    frames = {src for _, src in seen}
    assert len(frames) == top + 1 == len(set(shown)), "every position shows a frame of its own"
    assert min(shown) <= 25 and max(shown) >= 300, shown
