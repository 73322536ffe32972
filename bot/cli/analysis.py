"""`fuqing nlp`: analyse texts as TAXONOMY.md specifies, one JSON object per text (one text, or
JSON lines on stdin)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from bot.cli.startup import fail, load_settings
from bot.nlp import NLP


def nlp(
    text: Annotated[str | None, typer.Argument(help="one text; omit with --jsonl")] = None,
    ref: Annotated[
        str | None, typer.Option(help="reference date YYYY-MM-DD (default today)")
    ] = None,
    jsonl: Annotated[bool, typer.Option(help='read JSON lines {"text", "ref"?} on stdin')] = False,
) -> None:
    """Analyse text as TAXONOMY.md specifies: one JSON object per text."""
    from bot.app import place_units_from_settings

    settings = load_settings()
    logging.getLogger().setLevel(logging.WARNING)
    try:
        default_ref = (
            date.fromisoformat(ref) if ref else datetime.now(ZoneInfo(settings.timezone)).date()
        )
    except ValueError:
        fail(f"--ref must be YYYY-MM-DD, got {ref!r}")
        return
    analyzer = NLP.load(place_units_from_settings(settings), cache_dir=settings.data_dir / "jieba")
    if not jsonl:
        if text is None:
            fail("give a text, or --jsonl to read JSON lines from stdin")
            return
        typer.echo(json.dumps(analyzer.analyze(text, default_ref).to_json(), ensure_ascii=False))
        return
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            line_ref = date.fromisoformat(item["ref"]) if item.get("ref") else default_ref
            result = analyzer.analyze(str(item["text"]), line_ref).to_json()
        except (ValueError, KeyError, TypeError, AttributeError) as problem:
            typer.echo(f"line {number}: {problem!r}", err=True)
            result = {"error": f"line {number}: not a JSON object with a text"}
        typer.echo(json.dumps(result, ensure_ascii=False))
