"""Load a report in headless Chromium and record image decoding and script errors.

Chromium's ``--dump-dom`` prints the DOM after the page has loaded. A probe script is
inserted at the start of ``<head>`` in a copy of the page. It records every error event
(script errors and resources that failed to load) and every ``console.error`` and
``console.warn`` call. After the load event it writes a JSON summary into the DOM, with
the ``<img>`` elements that did not decode (``complete && naturalWidth > 0`` is false).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

PROBE = """<script id="lookbook-probe">
window.__probeErrors = [];
window.addEventListener("error", function (event) {
  var target = event.target && event.target.tagName ? event.target.tagName + " " + (event.target.alt || "") : "";
  window.__probeErrors.push("error: " + (event.message || "failed to load " + target));
}, true);
["error", "warn"].forEach(function (level) {
  var original = console[level];
  console[level] = function () {
    window.__probeErrors.push(level + ": " + Array.prototype.join.call(arguments, " "));
    original.apply(console, arguments);
  };
});
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (img) { return !(img.complete && img.naturalWidth > 0); })
                     .map(function (img) { return img.alt; });
  var out = document.createElement("pre");
  out.id = "lookbook-probe-result";
  out.textContent = JSON.stringify({images: images.length, broken: broken, errors: window.__probeErrors});
  document.body.appendChild(out);
});
</script>"""

# Flags for a root user in a container: no sandbox, no GPU, and no background traffic
# (component updates, sync, network predictions) to any host.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run_chromium(arguments: list[str], user_data_dir: Path, timeout_s: int) -> subprocess.CompletedProcess:
    chromium = chromium_path()
    if chromium is None:
        raise FileNotFoundError("chromium not found on PATH")
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)


def check_page(html_path: Path, work_dir: Path, timeout_s: int = 120) -> dict[str, Any]:
    """Load a probed copy of ``html_path`` and return ``{"images", "broken", "errors"}``."""
    text = html_path.read_text(encoding="utf-8")
    probed, count = re.subn(r"<head>", "<head>\n" + PROBE, text, count=1)
    if count != 1:
        raise ValueError(f"{html_path} has no <head> element to insert the probe into")
    copy = work_dir / "probed.html"
    copy.write_text(probed, encoding="utf-8")
    with tempfile.TemporaryDirectory(dir=work_dir) as profile:
        result = _run_chromium(["--virtual-time-budget=10000", "--dump-dom", copy.as_uri()], Path(profile), timeout_s)
    match = re.search(r'<pre id="lookbook-probe-result">(.*?)</pre>', result.stdout, re.S)
    if match is None:
        raise RuntimeError(f"chromium printed no probe result (exit status {result.returncode}); stderr:\n{result.stderr[-2000:]}")
    raw = match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return json.loads(raw)


def screenshot(html_path: Path, output: Path, work_dir: Path, timeout_s: int = 120) -> Path:
    """Save a 1280x2400 screenshot of ``html_path`` (the unmodified page) to ``output``."""
    with tempfile.TemporaryDirectory(dir=work_dir) as profile:
        result = _run_chromium(
            ["--window-size=1280,2400", "--hide-scrollbars", f"--screenshot={output}", html_path.resolve().as_uri()],
            Path(profile),
            timeout_s,
        )
    if not output.is_file():
        raise RuntimeError(f"chromium wrote no screenshot (exit status {result.returncode}); stderr:\n{result.stderr[-2000:]}")
    return output
