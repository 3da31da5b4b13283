"""Time one ask-render-upload-note step of hitl's loop and of the Optuna Dashboard tutorial's code.

For each storage (SQLite in a temp file, PostgreSQL in a fresh database on the local server) and
each study size N, it builds two studies of N rated trials that look like real ones (params from
the side's generator, a rating, an uploaded-artifact attribute and a note per trial), then times,
side by side in one process, steps of

* hitl: one pass of ``Loop``'s loop body, as the loop runs it after a rating: it counts the
  ratings and the waiting trials, makes a trial (ask, suggest, render, upload, note, mark ready)
  and, the queue being full again, shows the progress line; hitl is built from ``conf/`` as
  ``python run.py`` builds it (``--setup``: its defaults, or the tutorial's setup); and
* the tutorial: its per-trial code (ask, three ``suggest_int``, ``Image.new(...).save``,
  ``upload_artifact``, ``save_note``) with the check of how many trials are running before it and
  the check after it, on ``TPESampler(constant_liar=True, n_startup_trials=5)``.

Before each step a simulated person rates the oldest waiting trial of each study through its own
storage object (as the dashboard does), so each study keeps 4 waiting trials and grows by one
rating per step; N is the number of ratings at the start. Render time (writing the PNG) is timed
and subtracted from both. Medians over ``--steps`` steps; the time spent in the sampler's hooks
(inside ``study.ask`` and the suggestions, its reads of the trials included) is shown apart, as
a sampler's own work is the sampler's whoever calls it (TPE's grows with the study).

    python benchmarks/step_time.py                      # 10, 100, 1000, 10000 on both storages
    python benchmarks/step_time.py --sizes 10,1000 --steps 10 --storages sqlite
    python benchmarks/step_time.py --setup tpe          # hitl on the tutorial's setup: the same sampler both sides
    python benchmarks/step_time.py --setup random       # both sides on RandomSampler: no sampler cost
    python benchmarks/step_time.py --sqlite-wal         # SQLite in WAL mode, synchronous=NORMAL

PostgreSQL is ``HITL_BENCH_POSTGRES_ADMIN`` (default
``postgresql+psycopg2://postgres@127.0.0.1:5432/postgres``); a database is created per size and
dropped afterwards, also on Ctrl-C. Without a server the PostgreSQL rows are skipped with a message.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from collections.abc import Iterator
import contextlib
import copy
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
import datetime
import json
import os
from pathlib import Path
import random
import signal
import sqlite3
import statistics
import sys
import tempfile
import textwrap
import time
from typing import Any
import uuid
import warnings


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import optuna  # noqa: E402
from optuna.artifacts import FileSystemArtifactStore  # noqa: E402
from optuna.artifacts import upload_artifact  # noqa: E402
from optuna.artifacts._upload import ArtifactMeta  # noqa: E402
from optuna.distributions import FloatDistribution  # noqa: E402
from optuna.distributions import IntDistribution  # noqa: E402
from optuna.distributions import distribution_to_json  # noqa: E402
from optuna.storages import RDBStorage  # noqa: E402
from optuna.storages._rdb import models  # noqa: E402
from optuna.trial import TrialState  # noqa: E402
from optuna_dashboard import ChoiceWidget  # noqa: E402
from optuna_dashboard import register_objective_form_widgets  # noqa: E402
from optuna_dashboard import save_note  # noqa: E402
from optuna_dashboard.artifact import get_artifact_path  # noqa: E402
from PIL import Image  # noqa: E402
import sqlalchemy  # noqa: E402

import hitl  # noqa: E402
from hitl.app import open_study  # noqa: E402
from hitl.config import build  # noqa: E402
from hitl.config import build_storage  # noqa: E402
from hitl.queue import READY_ATTR  # noqa: E402
from hitl.queue._note import note_body  # noqa: E402
from hitl.queue._shown import output_key  # noqa: E402


PG_ADMIN_URL = os.environ.get("HITL_BENCH_POSTGRES_ADMIN", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
BATCH = 4  # trials awaiting rating at once, in both (the tutorial's n_batch)
SEED = 1
SETUP = "default"  # --setup: which hitl setup, against the tutorial on which sampler (see SETUPS)
SETUPS = {
    # name: (hitl's overrides of conf/, the tutorial side's sampler)
    "default": ([], "tpe"),  # what `python run.py` runs, against the tutorial as it is
    "tpe": (["+experiment=tutorial"], "tpe"),  # the same sampler, space and widget on both sides
    "random": (["+experiment=tutorial", "sampler=random"], "random"),  # no sampler cost on either side
}
SQLITE_WAL = False  # --sqlite-wal: SQLite in write-ahead-log mode, synchronous=NORMAL (both sides)
_SPACE = IntDistribution(0, 255)


def rating(rgb: tuple[int, int, int]) -> float:
    """A stand-in person: Good (-1) for warm reddish colours, Bad (1) for cold ones, So-so else."""
    r, g, b = rgb
    if r > 160 and g < 150 and b < 110:
        return -1.0
    if b > r:
        return 1.0
    return 0.0


class Person:
    """The stand-in person's rating of a trial's params on one side's widget (the choice's -1/0/1,
    or a 1..10 slider), from the colour the side's generator shows."""

    def __init__(self, generator: Any = None, widgets: Any = None) -> None:
        self.generator = generator
        self.slider = widgets is not None and widgets.directions == ["maximize"]

    def __call__(self, params: dict[str, Any]) -> float:
        if self.generator is not None and hasattr(self.generator, "rgb"):
            rgb = self.generator.rgb(params)
        else:
            rgb = (int(params["r"]), int(params["g"]), int(params["b"]))
        value = rating(rgb)
        return {-1.0: 9.0, 0.0: 5.0, 1.0: 2.0}[value] if self.slider else value


def distributions(generator: Any) -> dict[str, Any]:
    """The distributions ``generator.suggest`` uses, from its space (as hitl.generators does)."""
    out = {}
    for name, spec in generator.space.items():
        if isinstance(spec["low"], int) and isinstance(spec["high"], int) and spec.get("type") != "float":
            out[name] = IntDistribution(spec["low"], spec["high"])
        else:
            out[name] = FloatDistribution(float(spec["low"]), float(spec["high"]))
    return out


# ---------------------------------------------------------------- timing helpers


class Clock:
    """Accumulates the time spent in wrapped callables (the sampler, the render)."""

    def __init__(self) -> None:
        self.total = 0.0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.total += time.perf_counter() - t0

        return timed

    def take(self) -> float:
        total, self.total = self.total, 0.0
        return total


def time_sampler(sampler: optuna.samplers.BaseSampler, clock: Clock) -> None:
    """Route the sampler's hooks through ``clock`` (on this instance only)."""
    for name in ("before_trial", "infer_relative_search_space", "sample_relative", "sample_independent"):
        setattr(sampler, name, clock.wrap(getattr(sampler, name)))


class TimedGenerator:
    """hitl's generator with its render timed; hitl calls ``suggest``, ``render`` and ``fingerprint``."""

    def __init__(self, generator: Any, clock: Clock) -> None:
        self.space = generator.space
        self.suggest = generator.suggest
        self.fingerprint = generator.fingerprint
        self.render = clock.wrap(generator.render)


# ---------------------------------------------------------------- building studies of size N


def populate(engine: sqlalchemy.engine.Engine, study_id: int, n: int, *, hitl_note: bool, rng: random.Random,
             space: dict[str, Any], person: Person) -> None:
    """Insert ``n`` rated trials in bulk, with the records a real loop writes for each.

    Per trial: params drawn from ``space`` (the side's generator's), the person's rating, the
    ``artifacts:<id>`` trial system attribute ``upload_artifact`` writes, and the note as
    optuna-dashboard stores it (study system attributes ``dashboard:<trial_id>:note_ver`` and
    ``...:note_str:0``); in hitl's study also its ready mark and its output record.
    """
    now = datetime.datetime.now()
    dists = {name: distribution_to_json(d) for name, d in space.items()}
    trials = models.TrialModel.__table__
    with engine.begin() as conn:
        conn.execute(trials.insert(), [
            {"number": i, "study_id": study_id, "state": TrialState.COMPLETE,
             "datetime_start": now - datetime.timedelta(seconds=n - i + 1),
             "datetime_complete": now - datetime.timedelta(seconds=n - i)}
            for i in range(n)
        ])
        rows = conn.execute(
            sqlalchemy.select(trials.c.trial_id, trials.c.number).where(trials.c.study_id == study_id)
        ).all()
        params_rows, value_rows, trial_attr_rows, study_attr_rows = [], [], [], []
        for trial_id, number in rows:
            params = {name: rng.randint(d.low, d.high) if isinstance(d, IntDistribution) else rng.uniform(d.low, d.high)
                      for name, d in space.items()}
            for name, value in params.items():
                params_rows.append({"trial_id": trial_id, "param_name": name, "param_value": float(value),
                                    "distribution_json": dists[name]})
            value_rows.append({"trial_id": trial_id, "objective": 0, "value": person(params),
                               "value_type": models.TrialValueModel.TrialValueType.FINITE})
            artifact_id = str(uuid.uuid4())
            meta = ArtifactMeta(artifact_id=artifact_id, filename="color.png", mimetype="image/png", encoding=None)
            trial_attr_rows.append({"trial_id": trial_id, "key": f"artifacts:{artifact_id}",
                                    "value_json": json.dumps(json.dumps(asdict(meta)))})
            url = f"/artifacts/{study_id}/{trial_id}/{artifact_id}"
            if hitl_note:
                trial_attr_rows.append({"trial_id": trial_id, "key": READY_ATTR, "value_json": "true"})
                study_attr_rows.append({"study_id": study_id, "key": output_key(uuid.uuid4().hex),
                                        "value_json": str(trial_id)})
                body = note_body(number=number, url=url, filename="color.png", params=params)
            else:
                body = tutorial_note(number, url)
            study_attr_rows.append({"study_id": study_id, "key": f"dashboard:{trial_id}:note_ver", "value_json": "1"})
            study_attr_rows.append({"study_id": study_id, "key": f"dashboard:{trial_id}:note_str:0",
                                    "value_json": json.dumps(body)})
        conn.execute(models.TrialParamModel.__table__.insert(), params_rows)
        conn.execute(models.TrialValueModel.__table__.insert(), value_rows)
        conn.execute(models.TrialSystemAttributeModel.__table__.insert(), trial_attr_rows)
        conn.execute(models.StudySystemAttributeModel.__table__.insert(), study_attr_rows)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")  # as autovacuum would soon after such a bulk load


def tutorial_note(number: int, url: str) -> str:
    return textwrap.dedent(f"""\
    ## Trial {number}

    ![generated-image]({url})
    """)


# ---------------------------------------------------------------- the two contenders


class HitlSide:
    """hitl as ``python run.py`` builds it (the composed conf/), on a study reopened after the bulk load."""

    name = "hitl"

    def __init__(self, url: str, pg: bool, workdir: Path) -> None:
        self.cfg = copy.deepcopy(CONFIGS["postgres" if pg else "sqlite"])
        self.cfg.storage.url = url
        self.cfg.artifacts.base_path = str(workdir / "artifacts-hitl")
        self.widgets = build(self.cfg.widget, "widget")
        generator = build(self.cfg.generator, "generator")
        self.space = distributions(generator)
        self.person = Person(generator, self.widgets)
        self.storage: RDBStorage | None = None
        self.study_id: int | None = None
        self.sampler_clock, self.render_clock = Clock(), Clock()
        self.loop: hitl.Loop | None = None

    def create(self) -> int:
        storage = build_storage(self.cfg.storage)
        study, _ = open_study(storage=storage, study_name="hitl", sampler=optuna.samplers.RandomSampler(),
                              widgets=self.widgets)
        storage.engine.dispose()
        return study._study_id

    def open(self) -> None:
        """What a rerun of ``python run.py`` does: open the storage and the study, repair, adopt."""
        self.storage = build_storage(self.cfg.storage)
        sampler = build(self.cfg.sampler, "sampler")
        time_sampler(sampler, self.sampler_clock)
        study, _ = open_study(storage=self.storage, study_name="hitl", sampler=sampler, widgets=self.widgets)
        self.study_id = study._study_id
        generator = TimedGenerator(build(self.cfg.generator, "generator"), self.render_clock)
        self.loop = hitl.Loop(study=study, generator=generator, artifact_store=build(self.cfg.artifacts, "artifacts"),
                              batch=BATCH)
        self.loop.repair()

    def fill(self) -> None:
        while self.loop._tick() == "made":
            pass

    def step(self) -> tuple[float, float, float]:
        """One refill after a rating; returns (total, render, sampler) seconds."""
        self.sampler_clock.take(), self.render_clock.take()
        before = self._count()
        t0 = time.perf_counter()
        full = self.loop._tick()  # makes the trial that fills the queue again, and sees it full
        total = time.perf_counter() - t0
        made = self._count() - before
        assert (full, made) == ("full", 1), (full, made)
        return total, self.render_clock.take(), self.sampler_clock.take()

    def _count(self) -> int:
        """The study's trials, counted in SQL (untimed; optuna's count would read them all)."""
        trials = models.TrialModel.__table__
        with self.storage.engine.connect() as conn:
            return conn.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(trials)
                                .where(trials.c.study_id == self.study_id)).scalar_one()

    def close(self) -> None:
        if self.storage is not None:
            self.storage.engine.dispose()


class TutorialSide:
    """The Optuna Dashboard human-in-the-loop tutorial's main loop and ``start_optimization``."""

    name = "tutorial"

    def __init__(self, url: str, pg: bool, workdir: Path) -> None:
        self.url = url
        self.tmpdir = workdir / "tutorial-tmp"
        self.tmpdir.mkdir()
        self.artifact_store = FileSystemArtifactStore(base_path=str(workdir / "artifacts-tutorial"))
        (workdir / "artifacts-tutorial").mkdir()
        self.study: optuna.Study | None = None
        self.sampler_clock = Clock()
        self.space = {c: _SPACE for c in "rgb"}
        self.person = Person()

    def create(self) -> int:
        storage = RDBStorage(self.url)
        study = optuna.create_study(study_name="tutorial", storage=storage, direction="minimize")
        register_objective_form_widgets(study, widgets=[
            ChoiceWidget(choices=["Good 👍", "So-so👌", "Bad 👎"], values=[-1, 0, 1],
                         description="Please input your score!"),
        ])
        storage.engine.dispose()
        return study._study_id

    def open(self) -> None:
        if SETUPS[SETUP][1] == "random":
            sampler = optuna.samplers.RandomSampler(seed=SEED)
        else:
            sampler = optuna.samplers.TPESampler(constant_liar=True, n_startup_trials=5, seed=SEED)
        time_sampler(sampler, self.sampler_clock)
        self.study = optuna.create_study(study_name="tutorial", storage=self.url, sampler=sampler,
                                         load_if_exists=True)

    def _n_running(self) -> int:
        return len(self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))

    def _start_optimization(self) -> float:
        """The tutorial's per-trial code; returns the seconds spent making the image."""
        trial = self.study.ask()
        r = trial.suggest_int("r", 0, 255)
        g = trial.suggest_int("g", 0, 255)
        b = trial.suggest_int("b", 0, 255)
        t0 = time.perf_counter()
        image_path = os.path.join(self.tmpdir, f"sample-{trial.number}.png")
        image = Image.new("RGB", (320, 240), color=(r, g, b))
        image.save(image_path)
        render = time.perf_counter() - t0
        artifact_id = upload_artifact(artifact_store=self.artifact_store, file_path=image_path, study_or_trial=trial)
        save_note(trial, tutorial_note(trial.number, get_artifact_path(trial, artifact_id)))
        return render

    def fill(self) -> None:
        while self._n_running() < BATCH:
            self._start_optimization()

    def step(self) -> tuple[float, float, float]:
        self.sampler_clock.take()
        t0 = time.perf_counter()
        assert self._n_running() < BATCH  # the check that leads to a new trial
        render = self._start_optimization()
        assert self._n_running() >= BATCH  # the next check finds the queue full
        total = time.perf_counter() - t0
        return total, render, self.sampler_clock.take()

    def close(self) -> None:
        if self.study is not None:
            self.study._storage._backend.engine.dispose()


CONFIGS: dict[str, Any] = {}  # storage name -> hitl's composed config, composed once at start


def compose_configs(storages: list[str]) -> None:
    """Compose conf/ as ``python run.py`` would, once per storage (the URL and folder are set per run)."""
    from hydra import compose
    from hydra import initialize_config_dir

    for storage in storages:
        overrides = [f"seed={SEED}", f"batch={BATCH}", "dashboard.enabled=false"]
        if storage == "postgres":
            overrides.append("storage=postgres")
        overrides += SETUPS[SETUP][0]
        with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
            CONFIGS[storage] = compose(config_name="config", overrides=overrides)


def rate_oldest(rater: RDBStorage, study_id: int, person: Person) -> None:
    """The person rates the oldest waiting trial, through a storage of its own as the dashboard does."""
    waiting = rater.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
    trial = min(waiting, key=lambda t: t.number)
    rater.set_trial_state_values(trial._trial_id, TrialState.COMPLETE, [person(trial.params)])


# ---------------------------------------------------------------- one storage at one size


@dataclass
class Result:
    storage: str
    n: int
    steps: dict[str, list[float]] = field(default_factory=dict)
    renders: dict[str, list[float]] = field(default_factory=dict)
    samplers: dict[str, list[float]] = field(default_factory=dict)
    populate_s: float = 0.0
    open_s: float = 0.0
    commits: list[float] = field(default_factory=list)  # SQLite: bare sqlite3 commits in the same folder

    def median_ms(self, table: dict[str, list[float]], side: str) -> float:
        return 1000 * statistics.median(table[side])

    def step_ms(self, side: str) -> float:
        """Median step time without the render."""
        return 1000 * statistics.median(t - r for t, r in zip(self.steps[side], self.renders[side]))

    def rest_ms(self, side: str) -> float:
        """Median step time without the render and the sampler."""
        return 1000 * statistics.median(
            t - r - s for t, r, s in zip(self.steps[side], self.renders[side], self.samplers[side])
        )


class Bench:
    """One storage at one size: the two studies, their sides, and a rater."""

    def __init__(self, storage_name: str, url: str, n: int, workdir: Path) -> None:
        pg = storage_name == "postgres"
        self.sides = [HitlSide(url, pg, workdir), TutorialSide(url, pg, workdir)]
        self.result = Result(storage_name, n)
        self.rater = RDBStorage(url)
        self.ids: dict[str, int] = {}
        self.workdir = workdir
        self.probe: sqlite3.Connection | None = None

    def setup(self) -> None:
        n = self.result.n
        t0 = time.perf_counter()
        for side in self.sides:  # the same ratings of the same colours in both studies
            self.ids[side.name] = side.create()
            populate(self.rater.engine, self.ids[side.name], n, hitl_note=side.name == "hitl", rng=random.Random(n),
                     space=side.space, person=side.person)
        self.result.populate_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for side in self.sides:
            side.open()
            side.fill()
        self.result.open_s = time.perf_counter() - t0
        for side in self.sides:  # warm-up: two untimed refills each
            for _ in range(2):
                rate_oldest(self.rater, self.ids[side.name], side.person)
                side.step()
        if self.result.storage == "sqlite":
            self.probe = open_commit_probe(self.workdir)

    def round(self, i: int) -> None:
        """One timed step of each side, after a rating of each; who goes first alternates."""
        for side in self.sides if i % 2 == 0 else self.sides[::-1]:
            rate_oldest(self.rater, self.ids[side.name], side.person)
            total, render, sampler = side.step()
            self.result.steps.setdefault(side.name, []).append(total)
            self.result.renders.setdefault(side.name, []).append(render)
            self.result.samplers.setdefault(side.name, []).append(sampler)
        if self.probe is not None:
            self.result.commits.append(time_one_commit(self.probe, i))

    def close(self) -> None:
        for side in self.sides:
            side.close()
        self.rater.engine.dispose()
        if self.probe is not None:
            self.probe.close()


# ---------------------------------------------------------------- databases, cleanup, report


@contextlib.contextmanager
def no_interrupts() -> Iterator[None]:
    """Let cleanup finish even if Ctrl-C is pressed again."""
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextlib.contextmanager
def database(storage_name: str, workdir: Path) -> Iterator[str]:
    if storage_name == "sqlite":
        path = workdir / "bench.db"
        try:
            if SQLITE_WAL:
                with contextlib.closing(sqlite3.connect(path)) as conn:
                    conn.execute("PRAGMA journal_mode=WAL")  # stored in the file
            yield f"sqlite:///{path}"
        finally:
            with no_interrupts():
                for suffix in ("", "-journal", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"hitl_step_time_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with no_interrupts():
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


def open_commit_probe(workdir: Path) -> sqlite3.Connection:
    """A bare sqlite3 database beside the benchmark's: its commits show what the disk's sync costs.

    Every optuna write on SQLite is a commit of its own, so the SQLite figures scale with it.
    """
    conn = sqlite3.connect(workdir / "commit-probe.db")
    if SQLITE_WAL:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.commit()
    return conn


def time_one_commit(conn: sqlite3.Connection, i: int) -> float:
    t0 = time.perf_counter()
    conn.execute("INSERT INTO t VALUES (?)", (i,))
    conn.commit()
    return time.perf_counter() - t0


def sqlite_synchronous_normal(dbapi_connection: Any, connection_record: Any) -> None:
    """--sqlite-wal: what a storage setting would do on every SQLite connection."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def postgres_reachable() -> str | None:
    """``None`` if the server answers, else why not."""
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed (pip install -e '.[postgres]')"
    engine = sqlalchemy.create_engine(PG_ADMIN_URL)
    try:
        with engine.connect():
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means no server
        return str(exc).strip().splitlines()[0]
    finally:
        engine.dispose()


def report(results: list[Result]) -> str:
    lines = [
        f"setup: {SETUP} (hitl: python run.py {' '.join(SETUPS[SETUP][0]) or '(defaults)'}; tutorial: {SETUPS[SETUP][1]}){'; SQLite in WAL mode, synchronous=NORMAL' if SQLITE_WAL else ''}; medians in ms, render excluded; 'sampler' is the time in the sampler's hooks "
        "(its reads of the trials included), 'rest' the step without it",
        "",
        f"{'storage':<9} {'N':>6} | {'hitl':>6} {'sampler':>7} {'rest':>6} | {'tutorial':>8} {'sampler':>7} {'rest':>6} "
        f"| {'tutorial/hitl':>13}",
        "-" * 82,
    ]
    for r in results:
        lines.append(
            f"{r.storage:<9} {r.n:>6,} | {r.step_ms('hitl'):>6.1f} {r.median_ms(r.samplers, 'hitl'):>7.1f} "
            f"{r.rest_ms('hitl'):>6.1f} | {r.step_ms('tutorial'):>8.1f} {r.median_ms(r.samplers, 'tutorial'):>7.1f} "
            f"{r.rest_ms('tutorial'):>6.1f} | {r.step_ms('tutorial') / r.step_ms('hitl'):>12.1f}x"
        )
    commits = [1000 * c for r in results for c in r.commits]
    if commits:
        lines.append(f"(a bare sqlite3 commit on the same disk, timed in every round: median {statistics.median(commits):.1f} ms, "
                     f"max {max(commits):.1f} ms; optuna commits every write, so the SQLite figures follow it)")
    renders = [1000 * x for r in results for x in r.renders["hitl"]]
    if renders:
        lines.append(f"(hitl's render, excluded above: median {statistics.median(renders):.1f} ms)")
    lines.append("")
    for storage in dict.fromkeys(r.storage for r in results):
        rows = {r.n: r for r in results if r.storage == storage}
        sizes = sorted(rows)
        lo, hi = (100, 10_000) if {100, 10_000} <= set(rows) else (sizes[0], sizes[-1])
        if lo == hi:
            continue
        lines.append(
            f"{storage}: growth {lo:,} -> {hi:,} trials: hitl {rows[hi].step_ms('hitl') / rows[lo].step_ms('hitl'):.2f}x "
            f"(without the sampler {rows[hi].rest_ms('hitl') / rows[lo].rest_ms('hitl'):.2f}x), "
            f"tutorial {rows[hi].step_ms('tutorial') / rows[lo].step_ms('tutorial'):.2f}x"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000,10000", help="study sizes, comma-separated")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per side and size (median)")
    parser.add_argument("--storages", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--setup", default="default", choices=sorted(SETUPS),
                        help="default: hitl as python run.py runs it (default); tpe: hitl on the tutorial's "
                             "setup; random: both sides on RandomSampler")
    parser.add_argument("--sqlite-wal", action="store_true",
                        help="put the SQLite file in write-ahead-log mode (optuna's default is a rollback journal)")
    args = parser.parse_args()
    global SETUP, SQLITE_WAL
    SETUP, SQLITE_WAL = args.setup, args.sqlite_wal
    if SQLITE_WAL:
        sqlalchemy.event.listen(sqlalchemy.engine.Engine, "connect", sqlite_synchronous_normal)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    storages = [s.strip() for s in args.storages.split(",") if s.strip()]
    unknown = set(storages) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"--storages: unknown {sorted(unknown)}; use sqlite and/or postgres")
    if args.steps < 1 or not sizes or min(sizes) < 0:
        parser.error("--steps must be at least 1 and --sizes non-negative integers")

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    hitl.register_configs()
    if "postgres" in storages:
        why = postgres_reachable()
        if why is not None:
            print(f"skipping PostgreSQL: no server at {PG_ADMIN_URL} ({why})", file=sys.stderr)
            storages.remove("postgres")
    compose_configs(storages)
    results: list[Result] = []
    try:
        with contextlib.ExitStack() as stack:
            benches = []
            for storage in storages:  # build every study first ...
                for n in sizes:
                    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hitl-step-time-")))
                    url = stack.enter_context(database(storage, tmp))
                    bench = Bench(storage, url, n, tmp)
                    stack.callback(bench.close)
                    bench.setup()
                    benches.append(bench)
                    print(f"{storage} N={n:,}: ready (bulk load {bench.result.populate_s:.1f} s, open and fill "
                          f"{bench.result.open_s:.1f} s)", file=sys.stderr, flush=True)
            for i in range(args.steps):  # ... then time them in turns, so a busy moment hits all alike
                for bench in benches:
                    bench.round(i)
                print(f"round {i + 1}/{args.steps}", file=sys.stderr, flush=True)
            results = [b.result for b in benches]
    except BaseException as exc:  # Ctrl-C, or a failure: cleanup has run
        if isinstance(exc, KeyboardInterrupt):
            print("interrupted; temp files and databases removed", file=sys.stderr)
            return 130
        raise
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
