"""Quarterly summary benchmark: a district's and the city's figures over 6,000 requests and
6,000 visits.

    python bench/reports.py [--seed N]

A temporary SQLite database gets the seeded Beijing tree (16 districts and their streets), a
cadre on every district with two contact points, 3,000 requests and 3,000 visits in 2026Q1 and
as many in 2025Q4, spread over the districts and streets, with notes drawn from a few dozen
phrasings, each made unique (so key terms recur across districts, and no text is read twice
for free). It times `compile_figures` for 朝阳区 (its
streets compared, its common problems) and for the city (16 districts compared), and counts the
SQL statements each runs. Prints figures; never asserts. The city's summary is compiled when
someone asks for it (a page, a file), not per message.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runs from a checkout even when the package is not installed

from sqlalchemy import event, insert  # noqa: E402

from bot.app import place_units_from_settings  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.domain.quarters import Quarter  # noqa: E402
from bot.nlp import NLP  # noqa: E402
from bot.reporting.figures import compile_figures  # noqa: E402
from storage import crypto, repo  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import HelpRequest, Visit  # noqa: E402
from storage.repo._common import CODE_ALPHABET  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 4, 12, 10, tzinfo=TZ).astimezone(UTC)
PER_QUARTER = 3_000
NEEDS = (
    ("jobs", "想找一份保洁的工作，离家近一点"),
    ("jobs", "下岗了想学育婴师，有没有免费培训"),
    ("health", "孩子生病了，医药费报销不了"),
    ("relief", "家里困难，想申请低保"),
    ("rights", "丈夫打我，想咨询离婚"),
    ("knowledge", "想学电脑，社区有没有课"),
)
NOTES = (
    "和王某聊了找工作的事，她想做保洁",
    "单亲妈妈李某，孩子入托难，想找兼职",
    "刘某反映医药费负担重，想了解大病救助",
    "宝妈们希望社区开育婴师培训",
    "张某家里困难，申请低保没批下来",
)


def seed(db: Database, rng: random.Random) -> None:
    """Fill the database with the tree's cadres, requests and visits of two quarters."""
    with db.transaction() as session:
        districts = repo.district_units(session)
        streets = {d.id: repo.children_of(session, unit=d) for d in districts}
        cadres = {}
        for unit in districts:
            _identity, user, _new = repo.get_or_create_identity(
                session, channel="api", external_id=f"c{unit.id}", now=NOW
            )
            invite = repo.create_invite(session, unit=unit, name=f"干部{unit.id}", now=NOW)
            repo.redeem_invite(session, invite=invite, user=user, now=NOW)
            cadres[unit.id] = user.id
    codes: set[str] = set()
    requests, visits = [], []
    for quarter_start in (date(2026, 1, 1), date(2025, 10, 1)):
        for n in range(PER_QUARTER):
            district = rng.choice(districts)
            street = rng.choice(streets[district.id] or [district])
            created = datetime.combine(
                quarter_start + timedelta(days=rng.randrange(88)), datetime.min.time(), TZ
            ).astimezone(UTC)
            category, need = rng.choice(NEEDS)
            code = "".join(rng.choices(CODE_ALPHABET, k=6))
            while code in codes:
                code = "".join(rng.choices(CODE_ALPHABET, k=6))
            codes.add(code)
            resolved = created + timedelta(days=rng.randrange(1, 20)) if n % 2 else None
            requests.append(
                {
                    "code": code,
                    "source": "chat",
                    "unit_id": street.id,
                    "status": "resolved" if resolved else "new",
                    "need": f"{need}，家住{n}号楼",  # every text its own, as in life
                    "primary": category,
                    "categories": [category],
                    "crisis": rng.random() < 0.02,
                    "district": district.name,
                    "street": street.name if street is not district else None,
                    "contact": "chat",
                    "created_at": created,
                    "updated_at": created,
                    "resolved_at": resolved,
                    "accept_due": created + timedelta(days=1),
                    "resolve_due": created + timedelta(days=15),
                    "rating": rng.choice(("satisfied", "basic", None)) if resolved else None,
                }
            )
            visits.append(
                {
                    "cadre_id": cadres[district.id],
                    "unit_id": district.id,
                    "date": created.astimezone(TZ).date(),
                    "district": district.name,
                    "street": street.name,
                    "visit_form": "一对一访谈",
                    "whom": "王某",
                    "people": 1,
                    "focus": [],
                    "notes": f"{rng.choice(NOTES)}，第{n}户",
                    "categories": [rng.choice(NEEDS)[0]],
                    "created_at": created,
                }
            )
    with db.transaction() as session:
        session.execute(insert(HelpRequest), requests)
        session.execute(insert(Visit), visits)


def timed(db: Database, nlp: NLP, name: str) -> tuple[float, int]:
    """Seconds and SQL statements to compile `name`'s 2026Q1 figures."""
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.read() as session:
            unit = repo.find_summary_unit(session, name=name)
            assert unit is not None
            started = time.perf_counter()
            compile_figures(
                session, unit=unit, quarter=Quarter.parse("2026Q1"), nlp=nlp, tz=TZ, now=NOW
            )
            return time.perf_counter() - started, statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(env="test", database_url=f"sqlite:///{Path(folder) / 'bench.db'}")
        crypto.configure("bench-secret-key-bench-secret-key")
        db = Database(settings.database_url)
        upgrade(db)
        seed(db, random.Random(args.seed))
        nlp = NLP.load(place_units_from_settings(settings), cache_dir=Path(folder) / "jieba")
        timed(db, nlp, "朝阳区")  # warm the tagger and the caches
        district, d_sql = timed(db, nlp, "朝阳区")
        city, c_sql = timed(db, nlp, "北京市")
        db.dispose()
    print(f"{PER_QUARTER * 2:,} requests and as many visits over two quarters")
    print(f"朝阳区's figures: {district:.2f} s, {d_sql} SQL statements")
    print(f"the city's figures: {city:.2f} s, {c_sql} SQL statements")
    print(f"city / district: {city / district:.1f}x")


if __name__ == "__main__":
    main()
