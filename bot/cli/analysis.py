"""`fuqing nlp`: analyse texts as TAXONOMY.md specifies, one JSON object per text (one text, or
JSON lines on stdin); `fuqing nlp train` (bot/cli/learning.py) retrains with staff's
corrections."""

from __future__ import annotations

import json
import logging
import sys
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from typer.core import TyperGroup

from bot.cli.startup import fail, load_settings
from bot.nlp import NLP


class TextOrCommand(TyperGroup):
    """`fuqing nlp TEXT` analyses a text, `fuqing nlp train` runs a subcommand: a first word
    that names a subcommand is one, anything else is the text (its options may follow it)."""

    allow_interspersed_args = True

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Route a subcommand's name to it before the text argument can take it (the group's
        own options then keep their defaults)."""
        if args and args[0] in self.commands:
            super(TyperGroup, self).parse_args(ctx, [])
            ctx._protected_args, ctx.args = args[:1], args[1:]
            return list(args[1:])
        return super().parse_args(ctx, args)


nlp_app = typer.Typer(cls=TextOrCommand, help="Read texts as the bot does; retrain its models.")


@nlp_app.callback(invoke_without_command=True)
def nlp(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(help="one text; omit with --jsonl")] = None,
    ref: Annotated[
        str | None, typer.Option(help="reference date YYYY-MM-DD (default today)")
    ] = None,
    jsonl: Annotated[bool, typer.Option(help='read JSON lines {"text", "ref"?} on stdin')] = False,
) -> None:
    """Analyse text as TAXONOMY.md specifies: one JSON object per text."""
    if ctx.invoked_subcommand is not None:
        return
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
    analyzer = NLP.load(
        place_units_from_settings(settings),
        cache_dir=settings.data_dir / "jieba",
        model_dir=settings.trained_model_dir,
    )
    if not jsonl:
        if text is None:
            fail("give a text, or --jsonl to read JSON lines from stdin")
            return
        typer.echo(json.dumps(analyzer.analyze(text, default_ref).to_json(), ensure_ascii=False))
        return
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        result: dict[str, Any]
        try:
            item = json.loads(line)
            line_ref = date.fromisoformat(item["ref"]) if item.get("ref") else default_ref
            result = analyzer.analyze(str(item["text"]), line_ref).to_json()
        except (ValueError, KeyError, TypeError, AttributeError) as problem:
            typer.echo(f"line {number}: {problem!r}", err=True)
            result = {"error": f"line {number}: not a JSON object with a text"}
        typer.echo(json.dumps(result, ensure_ascii=False))
