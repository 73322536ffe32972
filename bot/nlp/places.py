"""Places: districts and 街道/乡镇 from the org tree, communities and villages by pattern.

The gazetteer is the list of `PlaceUnit`s the app reads from its database (seeded with
Beijing's 16 districts and their 街道/乡镇). Each unit is found by its official name and its
aliases ("朝阳" → 朝阳区, "双井" → 双井街道, "十八里店地区" → 十八里店乡). A unit whose short
form (the name without 区/街道/镇/乡/地区) is not an alias also gets it — but only right
after its own district ("顺义胜利", "朝阳平房"), because many short forms are ordinary words.

The text is scanned left to right for the longest known name at each position. The first
district named gives `district`; the first street/town in that district gives `street`.
With no district named, a street implies its district when the street name is unique.
Communities and villages have no gazetteer: a run of 2–6 name characters before 社区 or 村
(九龙社区, 爨底下村, 小堡村, 张各庄村), not crossing a known place (except a village named
after its town right before 村: 宋庄村), a function word or punctuation,
not after a verb such as 考察/讨论 that ends the text before a name, and not a common word
(农村, 乡村, 我们村, 村里 — see `data/places_stop.tsv`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.nlp.lexicon import DATA_DIR, read_table

_SUFFIXES = ("满族蒙古族乡", "回族乡", "满族乡", "地区", "街道", "镇", "乡", "区")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class PlaceUnit:
    """One org unit of the gazetteer, as the app gives it from its database."""

    district: str
    name: str
    kind: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    units: tuple[PlaceUnit, ...]
    weak: bool = False


@dataclass
class _Names:
    strong: dict[str, list[PlaceUnit]] = field(default_factory=dict)
    weak: dict[str, list[PlaceUnit]] = field(default_factory=dict)


def short_form(name: str) -> str:
    """The name without its administrative suffix ("双井街道" -> "双井", "朝阳区" -> "朝阳")."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


class Gazetteer:
    """Finds districts, streets/towns and communities in text."""

    def __init__(self, units: Iterable[PlaceUnit], data_dir: Path = DATA_DIR) -> None:
        self.units: tuple[PlaceUnit, ...] = tuple(units)
        self._districts: list[str] = []
        self._streets: dict[str, list[str]] = {}
        names = _Names()
        for u in self.units:
            if u.kind == "district":
                if u.name not in self._districts:
                    self._districts.append(u.name)
            else:
                self._streets.setdefault(u.district, []).append(u.name)
            forms = {u.name, *u.aliases}
            for form in forms:
                if len(form) >= 2:
                    names.strong.setdefault(form, []).append(u)
            short = short_form(u.name)
            if short != u.name and short not in forms:
                names.weak.setdefault(short, []).append(u)
        for form in list(names.weak):
            if form in names.strong:
                del names.weak[form]
        self._names = names
        # Names by first character, longest first (a strong name before a weak one of the same
        # length), so that each position of a message costs one dictionary look-up.
        candidates = [(n, False) for n in names.strong] + [(n, True) for n in names.weak]
        candidates.sort(key=lambda c: (-len(c[0]), c[1]))
        self._by_first: dict[str, list[tuple[str, bool]]] = {}
        for name, weak in candidates:
            self._by_first.setdefault(name[0], []).append((name, weak))
        stop = read_table("places_stop.tsv", 2, data_dir)
        self._notname = {w for k, w in stop if k == "notname"}
        self._stopchars = set("".join(w for k, w in stop if k == "stopchar"))
        self._notprefix = [w for k, w in stop if k == "notprefix"]
        after = "|".join(re.escape(w) for k, w in stop if k == "after")
        self._community = re.compile(rf"社区|村(?!{after})")

    def words(self) -> list[str]:
        """Every name and alias, to add to the tokenizer."""
        return [*self._names.strong, *self._names.weak]

    def district_names(self) -> list[str]:
        """District names in gazetteer order."""
        return list(self._districts)

    def streets_of(self, district: str) -> list[str]:
        """The 街道/乡镇 of a district, in gazetteer order."""
        return list(self._streets.get(district, []))

    def _mentions(self, text: str) -> list[_Mention]:
        out: list[_Mention] = []
        i = 0
        while i < len(text):
            found: _Mention | None = None
            for name, weak in self._by_first.get(text[i], ()):
                if text.startswith(name, i):
                    table = self._names.weak if weak else self._names.strong
                    found = _Mention(i, i + len(name), tuple(table[name]), weak=weak)
                    break
            if found is None:
                i += 1
                continue
            out.append(found)
            i = found.end
        # weak short forms count only right after their own district
        kept: list[_Mention] = []
        for m in out:
            if m.weak:
                prev = kept[-1] if kept else None
                if prev is None or prev.end != m.start:
                    continue
                districts = {u.district for u in prev.units if u.kind == "district"}
                units = tuple(u for u in m.units if u.district in districts)
                if not units:
                    continue
                m = _Mention(m.start, m.end, units)
            kept.append(m)
        return kept

    def match(self, text: str) -> tuple[str | None, str | None, str | None]:
        """(district, street, community) named in text, full official names, else None."""
        mentions = self._mentions(text)
        district: str | None = None
        for m in mentions:
            ds = [u for u in m.units if u.kind == "district"]
            if ds:
                district = ds[0].name
                break
        street: str | None = None
        for m in mentions:
            streets = [u for u in m.units if u.kind != "district"]
            if not streets:
                continue
            if district is not None:
                inside = [u for u in streets if u.district == district]
                if inside:
                    street = inside[0].name
                    break
                continue
            names = {u.name for u in streets}
            if len(names) == 1:
                street = streets[0].name
                owners = {u.district for u in streets}
                if len(owners) == 1:
                    district = streets[0].district
                break
        return district, street, self._find_community(text, mentions)

    def _find_community(self, text: str, mentions: list[_Mention]) -> str | None:
        blocked = [False] * len(text)
        for m in mentions:
            for k in range(m.start, m.end):
                blocked[k] = True
        ends = {m.end: m for m in mentions}
        for hit in self._community.finditer(text):
            if blocked[hit.start()]:
                continue
            town = ends.get(hit.start())
            if (
                town is not None
                and hit.group(0) == "村"
                and all(u.kind in {"town", "township"} for u in town.units)
            ):
                # a village named after its town (崔各庄村 in 崔各庄乡, 宋庄村 in 宋庄镇)
                return text[town.start : hit.end()]
            j = hit.start()
            while (
                j > 0
                and hit.start() - j < 6
                and not blocked[j - 1]
                and _CJK.match(text[j - 1])
                and (text[j - 1] not in self._stopchars or text[j - 1 : j + 1] == "各庄")
            ):
                j -= 1
            for word in self._notprefix:
                cut = text.rfind(word, j, hit.start())
                if cut >= 0:
                    j = cut + len(word)
            if hit.start() - j < 2:
                continue
            name = text[j : hit.end()]
            if name in self._notname or any(name.endswith(n) for n in self._notname):
                continue
            if name[: -len(hit.group(0))] in self._names.strong:
                continue
            return name
        return None
