"""The rating view measured in Chromium: the cost of a rating, how soon the next output shows, and
several people rating one study at once.

    python benchmarks/rating_view.py                    # SQLite in a temp folder
    python benchmarks/rating_view.py --postgres         # a temp database on 127.0.0.1:5432

Prints, for one person rating by keypress at 1280x800 and at 390x844 (the loop refilling in the
same process): keypresses and scrolls per rating, and the time from the keypress to the next
output on screen (p50, p95, max), measured in the page and from Playwright. Then 4 browser
contexts rate one study at once (--ratings in all): collisions (two people shown the same output
at once, or a rating answered 409), ratings lost (answered 200 but not stored), error alerts,
ratings stored without their rater's name.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import statistics
import sys
import tempfile
import time
import uuid

from optuna.trial import TrialState


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _browser import CHROMIUM  # noqa: E402
from _browser import CHROMIUM_ARGS  # noqa: E402
from _browser import RunningHitl  # noqa: E402
from conftest import compose_config  # noqa: E402
from conftest import free_port  # noqa: E402
from conftest import PG_ADMIN_URL  # noqa: E402


SHOWN = "#output [data-trial]"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def one_person(run: RunningHitl, browser, width: int, height: int, ratings: int) -> dict:
    context = await browser.new_context(viewport={"width": width, "height": height})
    await context.add_init_script("localStorage.setItem('hitl.name', 'solo')")
    page = await context.new_page()
    await page.goto(f"{run.url}/rate/studies/{run.study_id}")
    await page.wait_for_selector(SHOWN)
    outside, seen = [], []
    for i in range(ratings):
        before = await page.get_attribute(SHOWN, "data-trial")
        scrollable = await page.evaluate("document.documentElement.scrollHeight > innerHeight")
        outside.append(scrollable)
        started = time.perf_counter()
        await page.keyboard.press(str(1 + i % 9))
        await page.wait_for_function(
            f"(e => e !== null && e.dataset.trial !== '{before}' && (e.complete ?? true))"
            f"(document.querySelector('{SHOWN}'))", polling="raf")
        seen.append(1000 * (time.perf_counter() - started))
    in_page = await page.evaluate("window.hitlLatencies")
    await page.goto("about:blank")  # leaving the page gives its output back, as closing the tab does
    await context.close()
    return {"in_page": in_page, "seen": seen, "scrolls": sum(outside)}


async def crowd(run: RunningHitl, browser, people: int, ratings: int) -> dict:
    per_person = ratings // people
    contexts, pages, answers = [], [], []
    for i in range(people):
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        await context.add_init_script(f"localStorage.setItem('hitl.name', 'rater{i}')")
        page = await context.new_page()
        page.on("response", lambda r: answers.append(r.status) if "/rate/api/" in r.url and r.url.endswith("/rate") else None)
        await page.goto(f"{run.url}/rate/studies/{run.study_id}")
        contexts.append(context)
        pages.append(page)
    alerts, same = 0, 0
    rated = [0] * people

    async def person(i: int) -> None:
        nonlocal alerts
        page = pages[i]
        for n in range(per_person):
            await page.wait_for_selector(SHOWN, timeout=30_000)
            before = await page.get_attribute(SHOWN, "data-trial")
            await page.wait_for_timeout(50 + 37 * ((i + n) % 5))  # people look for a moment
            await page.keyboard.press(str(1 + (i + n) % 9))
            await page.wait_for_function(
                f"document.querySelector('{SHOWN}')?.dataset.trial !== '{before}' || "
                "!document.querySelector('#alert').hidden", timeout=30_000)
            if await page.is_visible("#alert"):
                alerts += 1
            rated[i] += 1

    async def watch() -> None:
        nonlocal same
        while sum(rated) < per_person * people:
            shown = [await p.get_attribute(SHOWN, "data-trial") if await p.query_selector(SHOWN) else None for p in pages]
            shown = [s for s in shown if s is not None]
            same += len(shown) - len(set(shown))
            await asyncio.sleep(0.02)

    started = time.perf_counter()
    await asyncio.gather(watch(), *(person(i) for i in range(people)))
    elapsed = time.perf_counter() - started
    for page, context in zip(pages, contexts):
        await page.goto("about:blank")
        await context.close()
    return {"same": same, "conflicts": answers.count(409), "errors": sum(1 for s in answers if s >= 500),
            "ok": answers.count(200), "alerts": alerts, "seconds": elapsed}


def stored_ratings(run: RunningHitl) -> tuple[int, int]:
    """Ratings the view stored (by name), and view-rated trials told without a rater's name."""
    trials = run.storage.get_all_trials(run.study_id)
    by_name = sum(1 for t in trials for k, v in t.user_attrs.items() if k.startswith("hitl:rating:") and v is not None)
    unnamed = sum(1 for t in trials if t.state == TrialState.COMPLETE and any(k.startswith("hitl:rating:") for k in t.user_attrs)
                  and not t.user_attrs.get("hitl:rater"))
    return by_name, unnamed


async def main(args: argparse.Namespace, storage_url: str, folder: Path) -> None:
    from playwright.async_api import async_playwright

    cfg = compose_config([
        f"storage.url={storage_url}", f"artifacts.base_path={folder / 'artifacts'}", f"dashboard.port={free_port()}",
        f"n_trials={2 * args.solo + args.ratings + 20}", f"batch={args.batch}", "poll_interval=0.05",
    ])
    with RunningHitl(cfg, timeout=120) as run:
        run.wait_until(lambda: len(run.waiting()) == args.batch, f"{args.batch} trials are waiting")
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            print(f"storage: {storage_url.split('://')[0]}, batch={args.batch}, default sampler and generator")
            for width, height in ((1280, 800), (390, 844)):
                solo = await one_person(run, browser, width, height, args.solo)
                page_ms, seen_ms = solo["in_page"], solo["seen"]
                print(f"one person, {width}x{height}, {len(seen_ms)} ratings: 1 keypress each, "
                      f"{solo['scrolls']} with anything to scroll")
                for label, ms in (("in the page", page_ms), ("seen by Playwright", seen_ms)):
                    print(f"  next output on screen, {label}: p50 {statistics.median(ms):.0f} ms, "
                          f"p95 {percentile(ms, 0.95):.0f} ms, max {max(ms):.0f} ms")
            before, _ = stored_ratings(run)
            result = await crowd(run, browser, args.people, args.ratings)
            time.sleep(0.5)
            after, unnamed = stored_ratings(run)
            await browser.close()
        lost = result["ok"] - (after - before)
        print(f"{args.people} people at once, {result['ok']} ratings in {result['seconds']:.1f} s: "
              f"{result['same'] + result['conflicts']} collisions ({result['same']} times two shown the same output, "
              f"{result['conflicts']} ratings answered 409), {lost} lost, {result['alerts']} error alerts, "
              f"{result['errors']} server errors, {unnamed} ratings without their rater's name")


def postgres_database() -> tuple[str, callable]:
    import sqlalchemy

    admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"hitl_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", drop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--solo", type=int, default=40, help="ratings by one person per screen size")
    parser.add_argument("--people", type=int, default=4)
    parser.add_argument("--ratings", type=int, default=100, help="ratings by all the people together")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--postgres", action="store_true", help=f"a temp database beside {PG_ADMIN_URL}")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        drop = None
        url = f"sqlite:///{Path(tmp) / 'hitl.db'}"
        if args.postgres:
            url, drop = postgres_database()
        try:
            asyncio.run(main(args, url, Path(tmp)))
        finally:
            if drop is not None:
                drop()
