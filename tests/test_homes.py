"""Text and vocabulary homes: user-facing Chinese lives in bot/texts.py, the words people type in
bot/nlp/data/words.toml, and nowhere else in engine, dialogue, domain, flow or channel code."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

from bot import texts
from bot.commands import DISTRICT_MENU, MENU, MENU_KEYS, Command, parse_command
from bot.conversation import DELETE_BUTTONS, DELETE_CONFIRM, RESUME_BUTTONS
from bot.flows import FLOWS
from bot.flows.progress import RATING_CHOICES, parse_rating
from bot.flows.runner import BUTTONS, CONFIRM_WORDS, EDIT_PATTERN
from bot.nlp.words import sections, table

ROOT = Path(__file__).resolve().parents[1]
# Engine, dialogue, domain, flow and channel code: no Chinese outside the two homes.
CHECKED = (
    "bot/engine.py",
    "bot/conversation.py",
    "bot/commands.py",
    "bot/actions.py",
    "bot/domain",
    "bot/flows",
    "bot/channels",
)
# CJK ideographs (unified, extension A, compatibility, extensions B+). Punctuation such as ，or
# full-width digits inside a regex character class is not language and is not checked.
CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
# words.toml sections whose keys are alternatives of one question: a word under two keys would
# make the answer ambiguous. (A flow's own section lists words for unrelated uses.)
ALTERNATIVES = ("commands", "code_commands", "ratings")
ALTERNATIVE_TABLES = ("categories", "contact", "consent", "forms", "focus", "open_help", "quarters")


def _modules() -> list[Path]:
    found: list[Path] = []
    for name in CHECKED:
        path = ROOT / name
        found += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return found


def _docstrings(tree: ast.AST) -> set[int]:
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, kinds) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def chinese_literals(path: Path, root: Path = ROOT) -> list[str]:
    """'file:line: literal' for every str constant (f-string parts too) with a CJK ideograph
    that is not a docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    where = path.relative_to(root)
    return [
        f"{where}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and CJK.search(node.value)
    ]


def test_the_checked_modules_exist() -> None:
    """The check covers real code (a renamed package would otherwise pass silently)."""
    assert len(_modules()) > 20


def test_no_chinese_literals_outside_the_homes() -> None:
    """Engine, dialogue, domain, flow and channel code hold no Chinese string literal: labels and
    buttons go in bot/texts.py, words people type in bot/nlp/data/words.toml."""
    found = [hit for path in _modules() for hit in chinese_literals(path)]
    assert not found, "Chinese literals outside bot/texts.py and words.toml:\n" + "\n".join(found)


def test_the_check_sees_literals_and_f_string_parts(tmp_path: Path) -> None:
    """The walker reports plain and f-string literals and skips docstrings."""
    module = tmp_path / "probe.py"
    source = '"""说明。"""\nA = "取消"\nB = f"{A}（{A}人）"\nC = "，"\n\n\ndef f() -> None:\n    """说明。"""\n'
    module.write_text(source, encoding="utf-8")
    found = chinese_literals(module, tmp_path)
    assert [hit.split(": ")[0] for hit in found] == ["probe.py:2", "probe.py:3"]


def _text_keys(path: Path) -> list[tuple[int, str]]:
    """(line, key) of every constant key passed to texts.t / t, or to Invalid / Abort."""
    keys = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = func.value if isinstance(func, ast.Attribute) else None
        is_t = name == "t" and (owner is None or getattr(owner, "id", "") == "texts")
        first = node.args[0]
        called = is_t or name in ("Invalid", "Abort")
        if called and isinstance(first, ast.Constant) and isinstance(first.value, str):
            keys.append((node.lineno, first.value))
    return keys


def test_every_text_key_used_exists() -> None:
    """Every constant `texts.t("…")` (and flow Invalid/Abort) key in the checked code has a text."""
    missing = [
        f"{path.relative_to(ROOT)}:{line}: {key}"
        for path in _modules()
        for line, key in _text_keys(path)
        if not texts.has(key)
    ]
    assert not missing, "\n".join(missing)


def test_every_slot_has_its_label_text() -> None:
    """Every question of every flow is named by its `slot.<flow>.<name>` text."""
    for flow in FLOWS:
        for slot in flow.spec.slots:
            assert slot.label == texts.t(f"slot.{flow.name}.{slot.name}")


def _alternative_sections() -> list[str]:
    return [
        s for s in sections() if s in ALTERNATIVES or s.rsplit(".", 1)[-1] in ALTERNATIVE_TABLES
    ]


@pytest.mark.parametrize("section", _alternative_sections())
def test_no_word_means_two_things(section: str) -> None:
    """Within a section of alternatives, no word is listed under two keys (or twice)."""
    counts = Counter(w for found in table(section).values() for w in found)
    assert [w for w, n in counts.items() if n > 1] == []


def test_aliases_do_not_repeat_within_a_flow() -> None:
    """A `修改 <字段>` alias names one question of its flow only, and no alias is another's label."""
    for flow in FLOWS:
        labels = [s.label for s in flow.spec.slots]
        aliases = [a for s in flow.spec.slots for a in s.aliases]
        assert len(aliases) == len(set(aliases)), flow.name
        assert not set(aliases) & set(labels), flow.name


def test_buttons_are_words_the_bot_recognises() -> None:
    """Pressing a button sends its label: each one is heard as what it offers."""
    confirm, edit, cancel = BUTTONS
    assert confirm in CONFIRM_WORDS
    assert texts.t("choice.right") in CONFIRM_WORDS  # the categories question's quick answer
    assert EDIT_PATTERN.match(edit)
    assert parse_command(cancel) == Command("cancel")
    assert [parse_command(b) for b in RESUME_BUTTONS] == [Command("resume"), Command("cancel")]
    assert DELETE_BUTTONS[0] in DELETE_CONFIRM
    assert [parse_rating(b, numbers=False) for b in RATING_CHOICES] == [
        ("satisfied", None),
        ("basic", None),
        ("unsatisfied", None),
    ]


def test_menu_entries_are_their_commands() -> None:
    """Each menu label (chat menu and WeChat menu) is read as the entry it stands for."""
    for flow in FLOWS:
        if flow.menu is not None:
            assert parse_command(flow.menu[1]) == Command(flow.name)
    for entry, label in (*MENU, *DISTRICT_MENU):
        assert parse_command(label) == Command(entry)
    wechat = {key: parse_command(label) for key, label in MENU_KEYS.items()}
    assert wechat == {
        "HELP_REQUEST": Command("help_request"),
        "PROGRESS": Command("progress"),
        "VISIT_REPORT": Command("visit_report"),
        "HUMAN": Command("human"),
        "MENU": Command("menu"),
        "DELETE_DATA": Command("delete"),
    }
