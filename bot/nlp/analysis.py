"""The NLP façade: one `NLP` object built at start-up, `analyze(text, ref)` per message.

`NLP.load(units)` reads every data file, builds the gazetteer from the app's org units,
warms one private jieba tokenizer (see `segment.py`), OpenCC and the crisis and need models'
weights, so nothing loads on the first message. `analyze` is pure: it normalises the text
(`normalise.py`), runs the crisis detector (lexicon, clause-scoped) and the crisis model on the
normalised text, the need tagger (lexicon and rules, with the need model's probabilities,
`need_model.py`) and the visit-form reader on it too, and the date parser, the place matcher
and the PII finders on the original; it returns a frozen `Analysis`, whose `to_json` is the
`fuqing nlp` object of TAXONOMY.md.

The crisis decision is asymmetric (a missed crisis is the worst error, a false alarm costs
little): `crisis` when the lexicon says crisis or the model is confident (P(crisis) at or above
its cross-validated threshold); otherwise `safety_check` when the lexicon sees a danger signal
or the model leans to danger (P(crisis or safety_check) at or above its threshold); a crisis
the model alone raises in a text that says its danger has ended (a past marker and no now
marker: the model does not scope the past by clause) is a safety check instead. When the
model alone raises a crisis or a safety check, `self_harm` follows its self-harm head (12356
in the reply). A long text (`LONG_CHARS` or more) is also read two sentences at a time, and its
P(danger) is the highest of the whole and its windows: a danger told in the middle of unrelated
background is not diluted by it (the crisis head reads the whole text only).
"""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import pathlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.nlp.crisis_model import _LATIN_WORD, MODEL_FILE, CrisisModel, features, training_hash
from bot.nlp.crisis_train import train as train_crisis_model
from bot.nlp.dates import Holiday, load_holidays, parse_date
from bot.nlp.forms import FormReader
from bot.nlp.learn import local_payload
from bot.nlp.lexicon import DATA_DIR
from bot.nlp.need_model import NEEDS_MODEL_FILE, NeedModel, needs_hash
from bot.nlp.need_train import train as train_need_model
from bot.nlp.normalise import Normaliser
from bot.nlp.pii import find_id_numbers, find_phones
from bot.nlp.places import Gazetteer, PlaceUnit
from bot.nlp.safety import CrisisDetector, decide
from bot.nlp.segment import Segmenter
from bot.nlp.tagger import NeedTagger

__all__ = ["NLP", "Analysis", "PlaceUnit"]

#: fewer letters or characters than this: the crisis model is not asked (see `analyze`)
MODEL_MIN_CHARS = 5
#: this many characters or more: the danger head also reads two-sentence windows (see above)
LONG_CHARS = 80
_SENTENCE_END = re.compile(r"(?<=[。！？!?\n])")
_NOT_EVIDENCE = re.compile(r"[\W_]+")


def _sentences(text: str) -> list[str]:
    """The sentences of a text, each with its end mark (they join back into the text)."""
    return [part for part in _SENTENCE_END.split(text) if part]


#: the runner-up category this close to the primary's score: she is asked which she mainly needs
CLOSE_SHARE = 0.6


def _release_parse_memory() -> None:
    """Give the memory freed after parsing the weight files back to the system (glibc's
    malloc_trim): the JSON's numbers are garbage once the models hold their tables, and without
    it the freed heap stays resident (~20 MB of the NLP's 150 MB budget). Elsewhere: nothing."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return


def _evidence(text: str) -> int:
    """Letters, digits and characters in text (spaces and punctuation left out)."""
    return len(_NOT_EVIDENCE.sub("", text))


@dataclass(frozen=True)
class Analysis:
    """Everything the bot reads from one message."""

    text: str
    primary: str | None
    categories: tuple[str, ...]
    crisis: bool
    self_harm: bool
    date: dt.date | None
    district: str | None
    street: str | None
    community: str | None
    visit_form: str | None
    focus: tuple[str, ...]
    phones: tuple[str, ...]
    id_numbers: tuple[str, ...]
    #: danger signals without enough to be sure: ask whether she is safe (never with crisis)
    safety_check: bool = False
    #: the need categories' final scores (lexicon + model, before the rules), best first
    need_scores: tuple[tuple[str, float], ...] = ()
    #: per category, the word of hers that weighed most (the lexicon's term), for her choices
    need_words: tuple[tuple[str, str], ...] = ()

    def close_pair(self) -> tuple[str, str] | None:
        """The primary and the runner-up when the runner-up scored nearly as high (she is
        asked which she mainly needs); None when the primary is clear, forced (a crisis) or
        other."""
        if self.primary is None or self.crisis or self.primary == "other":
            return None
        scores = dict(self.need_scores)
        runner_up = [(c, v) for c, v in self.need_scores if c not in (self.primary, "other")]
        if not runner_up or scores.get(self.primary, 0.0) <= 0:
            return None
        second, value = runner_up[0]
        return (self.primary, second) if value >= CLOSE_SHARE * scores[self.primary] else None

    def to_json(self) -> dict[str, object]:
        """The TAXONOMY `fuqing nlp` object, then the extra keys self_harm and id_numbers."""
        return {
            "text": self.text,
            "primary": self.primary,
            "categories": list(self.categories),
            "crisis": self.crisis,
            "safety_check": self.safety_check,
            "date": self.date.isoformat() if self.date else None,
            "district": self.district,
            "street": self.street,
            "community": self.community,
            "visit_form": self.visit_form,
            "focus": list(self.focus),
            "phones": list(self.phones),
            "self_harm": self.self_harm,
            "id_numbers": list(self.id_numbers),
        }


class NLP:
    """The loaded NLP components; build once with `NLP.load`, share everywhere."""

    def __init__(
        self,
        *,
        segmenter: Segmenter,
        gazetteer: Gazetteer,
        tagger: NeedTagger,
        safety: CrisisDetector,
        forms: FormReader,
        holidays: tuple[Holiday, ...],
        normaliser: Normaliser,
        model: CrisisModel,
        needs: NeedModel,
    ) -> None:
        self._segmenter = segmenter
        self._gazetteer = gazetteer
        self._tagger = tagger
        self._safety = safety
        self._forms = forms
        self._holidays = holidays
        self._normaliser = normaliser
        self._model = model
        self._needs = needs

    @classmethod
    def load(
        cls,
        units: Iterable[PlaceUnit],
        *,
        cache_dir: pathlib.Path | None = None,
        model_dir: pathlib.Path | None = None,
    ) -> NLP:
        """Read all lexicons, the gazetteer and the crisis model; warm the tokenizer and OpenCC.

        The jieba cache, and crisis weights retrained for changed training data, go to cache_dir.
        Weights trained with staff's corrections (`fuqing nlp train`) in `model_dir` are used
        instead of the shipped ones while they are valid (`learn.local_payload`).
        """
        data_dir = DATA_DIR
        gazetteer, tagger, forms, segmenter = _parts(units, cache_dir)
        model_cache = cache_dir / "crisis-model" if cache_dir else None
        needs_cache = cache_dir / "needs-model" if cache_dir else None
        local_crisis = local_needs = None
        if model_dir is not None:
            local_crisis = local_payload(model_dir / MODEL_FILE, training_hash(data_dir))
            local_needs = local_payload(model_dir / NEEDS_MODEL_FILE, needs_hash(data_dir))
        nlp = cls(
            segmenter=segmenter,
            gazetteer=gazetteer,
            tagger=tagger,
            safety=CrisisDetector(data_dir),
            forms=forms,
            holidays=load_holidays(),
            normaliser=Normaliser(data_dir),
            model=CrisisModel(local_crisis)
            if local_crisis is not None
            else CrisisModel.load(
                segmenter.tokens, train_crisis_model, data_dir=data_dir, cache_dir=model_cache
            ),
            needs=NeedModel(local_needs)
            if local_needs is not None
            else NeedModel.load(
                segmenter.tokens, train_need_model, data_dir=data_dir, cache_dir=needs_cache
            ),
        )
        _release_parse_memory()
        return nlp

    @property
    def model_hashes(self) -> tuple[str, str]:
        """(crisis, need) weights' data hashes: `local:…` when trained with corrections."""
        return self._model.data_hash, self._needs.data_hash

    def analyze(self, text: str, ref: dt.date) -> Analysis:
        """Read need, crisis, date, places, visit form, focus and contacts from one text."""
        norm = self._normaliser.normalise(text)
        safety = self._safety.check(norm)
        # a danger signal of the lexicon asks whether she is safe, however short the message
        crisis, check, self_harm = safety.crisis, safety.signal, safety.self_harm
        # The lexicon's crisis stands unless the model reads the text as calm (`decide`: then
        # she is asked). Under MODEL_MIN_CHARS letters the model has no evidence to weigh (a form
        # reply: 不用了, 对, 1): the lexicon decides alone, and it knows the short cries (救命,
        # 他又来了, jiu ming).
        evidence = _evidence(norm) >= MODEL_MIN_CHARS
        found: set[str] | None = None  # the text's features, shared when no trap was blanked
        if evidence:
            model = self._model
            clean = self._safety.blank_traps(norm)  # the model reads traps as the lexicon does
            # Each sentence is tokenized once: jieba cuts at the end marks anyway, so the whole
            # text's tokens and each window's are the sentences' tokens joined.
            sentences = _sentences(clean)
            tokens = [self._segmenter.tokens(sentence) for sentence in sentences]
            seen = features(clean, [t for part in tokens for t in part])
            found = seen if clean == norm else None
            scores = model.scores_of(seen, _LATIN_WORD.search(clean) is not None)
            p_danger = scores.danger
            if len(clean) >= LONG_CHARS:
                for i in range(len(sentences) - 1):
                    window = sentences[i] + sentences[i + 1]
                    p_danger = max(p_danger, model.scores(window, tokens[i] + tokens[i + 1]).danger)
            decision = decide(safety, scores.crisis, p_danger, scores.self_harm, model.thresholds)
            crisis, check, self_harm = decision.crisis, decision.safety_check, decision.self_harm
        # the need lexicon has upper-case terms (ICU): it reads the text with Latin case kept
        cased = self._normaliser.cased(text, norm)
        needs = self._needs
        if evidence:
            if found is None:
                found = features(norm, self._segmenter.tokens(norm))
            reading = needs.probabilities_of(norm, found)
            tagging = self._tagger.tag(
                cased,
                crisis=crisis,
                self_harm=self_harm,
                model=reading.member,
                weight=needs.weight,
                floor=needs.floor,
                primary=reading.primary,
                primary_weight=needs.primary_weight,
            )
        else:
            tagging = self._tagger.tag(cased, crisis=crisis, self_harm=self_harm)
        district, street, community = self._gazetteer.match(norm)  # 朝陽區 read as 朝阳区
        return Analysis(
            text=text,
            primary=tagging.primary,
            categories=tagging.categories,
            crisis=crisis,
            safety_check=check,
            self_harm=self_harm,
            need_scores=tuple(sorted(tagging.scores.items(), key=lambda kv: -kv[1])),
            need_words=tagging.words(),
            date=parse_date(text, ref, holidays=self._holidays),
            district=district,
            street=street,
            community=community,
            visit_form=self._forms.visit_form(cased),
            focus=self._forms.focus_groups(text, tagging.categories),
            phones=tuple(find_phones(text)),
            id_numbers=tuple(find_id_numbers(text)),
        )

    def match_places(self, text: str) -> tuple[str | None, str | None, str | None]:
        """(district, street, community) named in text, as full official names (read normalised:
        朝陽區 is 朝阳区)."""
        return self._gazetteer.match(self._normaliser.normalise(text))

    def person_names(self, text: str) -> list[str]:
        """Words of text that may be a person's name: ones jieba guessed (no dictionary has
        them) that name no place (`bot.nlp.names` decides which to mask)."""
        return self.possible_names(self.segment(text))

    def guessed_words(self, words: list[str]) -> list[str]:
        """The words (of a segmented text) of two to four characters that no dictionary has:
        jieba's HMM glued them together."""
        return self._segmenter.unknown(words)

    def possible_names(self, words: list[str]) -> list[str]:
        """The words (of a segmented text) that may be a person's name: in no dictionary and no
        place."""
        return [w for w in self.guessed_words(words) if not any(self.match_places(w))]

    def segment(self, text: str) -> list[str]:
        """Words of text, by the warmed private tokenizer."""
        return self._segmenter.segment(text)

    def district_names(self) -> list[str]:
        """The district names in gazetteer order."""
        return self._gazetteer.district_names()

    def streets_of(self, district: str) -> list[str]:
        """The 街道/乡镇 of a district, in gazetteer order."""
        return self._gazetteer.streets_of(district)


def _parts(
    units: Iterable[PlaceUnit], cache_dir: pathlib.Path | None
) -> tuple[Gazetteer, NeedTagger, FormReader, Segmenter]:
    """The gazetteer, tagger and form reader, and the tokenizer that knows all their words."""
    gazetteer = Gazetteer(units, DATA_DIR)
    tagger = NeedTagger(DATA_DIR)
    forms = FormReader(DATA_DIR)
    words = [
        *gazetteer.words(),
        *tagger.lexicon.terms(),
        *forms.forms.terms(),
        *forms.focus.terms(),
    ]
    segmenter = Segmenter.build(words, cache_dir=cache_dir, data_dir=DATA_DIR)
    return gazetteer, tagger, forms, segmenter


def build_segmenter(units: Iterable[PlaceUnit], cache_dir: pathlib.Path | None = None) -> Segmenter:
    """The tokenizer `NLP.load` builds for these units (its `tokens` train the crisis model)."""
    return _parts(units, cache_dir)[3]
