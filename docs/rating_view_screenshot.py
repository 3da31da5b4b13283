"""Make docs/rating-view.png, the README's picture of the rating view at 1280x800.

Runs hitl with its dashboard in a temporary folder, rates two outputs in the view (so the
progress shows a best so far) and shoots the whole window. Needs the test extra and Debian's
chromium, as docs/screenshot.py does.

    python docs/rating_view_screenshot.py [output.png]
"""

from __future__ import annotations

from pathlib import Path
import sys
import tempfile


ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from _browser import chromium  # noqa: E402
from _browser import missing  # noqa: E402
from _browser import RunningHitl  # noqa: E402
from conftest import compose_config  # noqa: E402
from conftest import free_port  # noqa: E402


SHOWN = "#output [data-trial]"


def main(out: Path) -> None:
    reason = missing()
    if reason is not None:
        raise SystemExit(f"error: {reason}")
    with tempfile.TemporaryDirectory(prefix="hitl-shot-") as tmp:
        cfg = compose_config([
            f"storage.url=sqlite:///{Path(tmp) / 'hitl.db'}", f"artifacts.base_path={Path(tmp) / 'artifacts'}",
            "dashboard.enabled=true", f"dashboard.port={free_port()}", "seed=21", "n_trials=8",
            "dashboard.undo_window=0", "poll_interval=0.05",
        ])
        with RunningHitl(cfg) as run, chromium() as browser:
            run.wait_until(lambda: len(run.waiting()) == cfg.batch, f"{cfg.batch} trials are waiting")
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.add_init_script("localStorage.setItem('hitl.name', 'Ann')")
            page = context.new_page()
            page.goto(f"{run.url}/rate/studies/{run.study_id}")
            for key in ("6", "3"):
                before = page.wait_for_selector(SHOWN).get_attribute("data-trial")
                page.keyboard.press(key)
                page.wait_for_function(f"document.querySelector('{SHOWN}').dataset.trial !== '{before}'")
            page.wait_for_function("document.querySelector('#progress img')?.naturalWidth > 0")
            page.wait_for_timeout(300)
            page.screenshot(path=str(out))
            context.close()
    print(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "rating-view.png")
