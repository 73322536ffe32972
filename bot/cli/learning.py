"""`fuqing nlp train`: retrain the need and crisis models with staff's corrections.

Reads every correction from the database (FUQING_DATABASE_URL), adds them to the shipped
training data (bot/nlp/learn.py: staff's labels win over a text's shipped ones), retrains both
models with their own training code and writes the weights to FUQING_NLP_MODEL_DIR (default
FUQING_DATA_DIR/nlp-model), where the NLP finds them at its next start. The shipped weights are
never touched. Prints how many corrections were used and how the model read them before and
after (after is in-sample: it has learnt them). Takes a few minutes (the need model's
cross-validation most of it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

import typer

from bot.cli.analysis import nlp_app as nlp_app
from bot.cli.startup import load_settings, migrated_database
from bot.domain.labels import Agreement, agreement
from bot.nlp import NLP, learn
from bot.nlp.analysis import build_segmenter
from bot.nlp.crisis_model import read_training, training_hash
from bot.nlp.learn import CrisisRow, Example, NeedRow
from bot.nlp.need_model import needs_hash, read_needs_training
from storage import repo


def base_rows() -> tuple[list[NeedRow], list[CrisisRow]]:
    """The shipped training rows of the need and the crisis model."""
    return read_needs_training(), read_training()


def _agreement(nlp: NLP, examples: Sequence[tuple[Example, date]]) -> Agreement:
    """How the NLP reads the corrected texts against staff's labels."""
    pairs = []
    for example, day in examples:
        found = nlp.analyze(example.text, day)
        pairs.append(((found.primary, found.crisis), (example.categories[0], example.crisis)))
    return agreement(pairs)


def _shares(found: Agreement) -> str:
    if not found.n:
        return "-"
    primary = f"primary {found.primary_right}/{found.n} = {found.primary:.3f}"
    return f"{primary}, crisis {found.crisis_right}/{found.n} = {found.crisis:.3f}"


@nlp_app.command("train")
def train() -> None:
    """Retrain the need and crisis models with staff's corrections (FUQING_NLP_MODEL_DIR)."""
    from bot.app import place_units_from_settings

    settings = load_settings()
    logging.getLogger().setLevel(logging.WARNING)
    tz = ZoneInfo(settings.timezone)
    with migrated_database(settings) as db, db.read() as session:
        dated = [
            (
                Example(row.text, tuple(row.staff_categories), row.staff_crisis),
                repo.as_utc(row.corrected_at).astimezone(tz).date(),
            )
            for row in repo.all_corrections(session)
            if row.staff_categories
        ]
    typer.echo(f"corrections: {len(dated)}")
    if not dated:
        typer.echo("nothing to learn: no weights written")
        return
    units = place_units_from_settings(settings)
    cache, out = settings.data_dir / "jieba", settings.trained_model_dir
    before = _agreement(NLP.load(units, cache_dir=cache, model_dir=out), dated)
    started = time.perf_counter()
    needs, crisis = base_rows()
    trained = learn.train(
        [example for example, _ in dated],
        build_segmenter(units, cache).tokens,
        base_needs=needs,
        base_crisis=crisis,
        needs_hash=needs_hash(),
        crisis_hash=training_hash(),
    )
    for path in learn.write(trained, out):
        typer.echo(f"wrote {path}")
    took = time.perf_counter() - started
    after = _agreement(NLP.load(units, cache_dir=cache, model_dir=out), dated)
    typer.echo(f"trained in {took:.0f} s")
    typer.echo(f"on the corrections, before: {_shares(before)}")
    typer.echo(f"on the corrections, after (in-sample): {_shares(after)}")
    typer.echo(f"need model cross-validated: {trained.needs['cv']}")
    typer.echo(f"crisis thresholds: {trained.crisis['thresholds']}")
    typer.echo("restart `fuqing serve` (and the scheduler) to use them")
