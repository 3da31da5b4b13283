"""Make docs/rating-page.png, the README's picture of the rating page.

Runs hitl with its dashboard in a temporary folder, opens the first waiting trial in
Debian's chromium (the helper the browser tests use) and shoots the page down to the
rating form. Needs the test extra: pip install -e '.[test]' and apt-get install chromium
(fonts-noto-color-emoji too, or the choices' emoji show as boxes).

    python docs/screenshot.py [output.png]
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


SEED = 21  # the default sampler's first colour with this seed is a warm one, fitting a sunset task
WIDTH = 1280
MARGIN = 24  # pixels kept below the Submit button


def main(out: Path) -> None:
    reason = missing()
    if reason is not None:
        raise SystemExit(f"error: {reason}")
    with tempfile.TemporaryDirectory(prefix="hitl-shot-") as tmp:
        cfg = compose_config([
            f"storage.url=sqlite:///{Path(tmp) / 'hitl.db'}",
            f"artifacts.base_path={Path(tmp) / 'artifacts'}",
            "dashboard.enabled=true",
            f"dashboard.port={free_port()}",
            f"seed={SEED}",
            "n_trials=4",  # with batch=4: four trials waiting, and the run ends once they are rated
            "poll_interval=0.05",
        ])
        with RunningHitl(cfg) as run, chromium() as browser:
            run.wait_until(lambda: len(run.waiting()) == cfg.batch, f"{cfg.batch} trials are waiting")
            page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
            page.goto(f"{run.url}/dashboard/studies/{run.study_id}/trials")
            img = page.get_by_role("img", name="output of trial 0", exact=True)
            img.wait_for()
            img.evaluate("i => i.decode()")
            submit = page.get_by_role("button", name="Submit", exact=True)
            submit.wait_for()
            box = submit.bounding_box()
            assert box is not None
            # A viewport ending under the form, rather than a clip, lays the side bar out whole.
            page.set_viewport_size({"width": WIDTH, "height": round(box["y"] + box["height"] + MARGIN)})
            page.wait_for_timeout(300)
            page.screenshot(path=str(out))
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "rating-page.png")
