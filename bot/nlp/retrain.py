"""Retrain the crisis model: rebuild its training data, fit it, show the cross-validated figures.

    python -m bot.nlp.retrain build  # tests/data sets + data/crisis_extra.tsv → crisis_train.tsv
    python -m bot.nlp.retrain train  # crisis_train.tsv → crisis_model.json (CV figures shown)
    python -m bot.nlp.retrain cv     # cross-validated figures of lexicon + model, by source
    python -m bot.nlp.retrain pinyin # crisis_train.tsv + lexicons → pinyin_words.tsv (pypinyin)
    python -m bot.nlp.retrain inflections  # danger_words.tsv → danger_inflections.tsv (Snowball)
    python -m bot.nlp.retrain needs-build  # need sets + data/needs_extra.tsv → needs_train.tsv
    python -m bot.nlp.retrain needs-train  # needs_train.tsv → needs_model.json (CV figures shown)

`train` tokenizes with the segmenter `NLP.load` builds over the seed gazetteer, so the shipped
weights match what the app computes at run time.
"""

from __future__ import annotations

import json
import sys

from bot.nlp.crisis_model import MODEL_FILE, read_training, training_hash
from bot.nlp.crisis_train import build, combined_report, train
from bot.nlp.evaluate import load_segmenter
from bot.nlp.lexicon import DATA_DIR
from bot.nlp.need_model import NEEDS_MODEL_FILE, needs_hash, read_needs_training
from bot.nlp.need_train import build as build_needs
from bot.nlp.need_train import train as train_needs


def _export(payload: dict[str, object], name: str, shown: tuple[str, ...]) -> None:
    """Write trained weights to data/<name> and print their figures."""
    (DATA_DIR / name).write_text(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    print(json.dumps({k: payload[k] for k in shown}, indent=1))
    print(f"{len(payload['weights'])} weights")  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    """`build`, `train`, `needs-build`, `needs-train`, `cv`, `pinyin` or `inflections`."""
    args = sys.argv[1:] if argv is None else argv
    builds = {"build": build, "needs-build": build_needs}
    if args[:1] and args[0] in builds:
        for key, count in sorted(builds[args[0]]().items()):
            print(f"{key:<32}{count:5d}")
        return 0
    if args[:1] == ["train"]:
        payload = train(read_training(), load_segmenter(), data_hash=training_hash())
        _export(payload, MODEL_FILE, ("thresholds", "cv"))
        return 0
    if args[:1] == ["needs-train"]:
        payload = train_needs(read_needs_training(), load_segmenter(), data_hash=needs_hash())
        _export(payload, NEEDS_MODEL_FILE, ("weight", "floor", "cv"))
        return 0
    if args[:1] == ["cv"]:
        for line in combined_report(read_training(), load_segmenter()):
            print(line)
        return 0
    if args[:1] == ["inflections"]:
        from bot.nlp.inflections_build import build as build_inflections  # dev: snowballstemmer

        print(f"{build_inflections()} inflections")
        return 0
    if args[:1] == ["pinyin"]:
        from bot.nlp.pinyin_build import build as build_pinyin  # dev only: needs pypinyin

        print(f"{build_pinyin()} pinyin entries")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
