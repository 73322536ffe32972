"""Natural-language reading of messages and visit notes: needs, crisis, dates, places, PII.

Build one `NLP` at start-up with `NLP.load(units)` and call `analyze(text, ref)` per
message; the helpers below are pure functions usable on their own. Importing this package
loads neither jieba nor any data file.
"""

from bot.nlp.analysis import NLP, Analysis, PlaceUnit
from bot.nlp.dates import parse_date
from bot.nlp.numbers import chinese_to_int, parse_count
from bot.nlp.pii import (
    PiiMaskingFilter,
    digest,
    find_id_numbers,
    find_phones,
    mask_pii,
    valid_id_number,
)

__all__ = [
    "NLP",
    "Analysis",
    "PiiMaskingFilter",
    "PlaceUnit",
    "chinese_to_int",
    "digest",
    "find_id_numbers",
    "find_phones",
    "mask_pii",
    "parse_count",
    "parse_date",
    "valid_id_number",
]
