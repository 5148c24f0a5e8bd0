"""A binary ``conflict_event`` training set from the ConfliBERT evaluation data (stage ``labels``).

None of the four ConfliBERT datasets is labelled for "conflict event", so the label is derived by
rules written in ``params.yaml`` (section ``labels``), per dataset:

* ``positive_any``: a row with any of these label columns set is a conflict event;
* ``ambiguous_any``: a non-positive row with any of these set is left out (the label hints at
  violence but does not establish it);
* every other row is a negative *candidate*; with ``screen_negatives`` a candidate whose text
  matches ``violence_pattern`` is left out as ambiguous, because that dataset's labels were not
  designed to exclude violence (e.g. SATP's all-zero rows include security-force operations that
  killed militants, which are conflict events by our definition but not "terrorist attacks").

General web text (``web_pool``): the English gold texts of the boilerplate benchmarks that are not
in the hand-labelled web-news dev set (:mod:`newsaudit.training.webnews`) are appended as rows of
``origin = web``, ``conflict_event = 0`` and split ``train``: whether they are used, screened or
treated as unlabelled is the ``train`` stage's choice (``train.web_negatives``), so every row carries
``violence_hits``, the number of lexicon matches in its first 5,000 characters.

Duplicates: the leakage audit's pairs (``data/interim/leakage_pairs.parquet``) are grouped into
connected components; a group found on more than one split is moved to its earliest split
(train < dev < test) or, with ``leakage_action: drop``, its later-split members are dropped. So no
exact or near duplicate straddles train/dev/test. Counts of everything are written to
``reports/metrics/labels.json``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from newsaudit.core import paths
from newsaudit.core.config import Section
from newsaudit.core.errors import NewsauditError
from newsaudit.datasets import conflibert
from newsaudit.training import webnews

SPLIT_ORDER = ("train", "dev", "test")
PAIR_COLUMNS = ("dataset", "split_a", "row_a", "split_b", "row_b", "kind")

# Short English violence lexicon used only to screen negative candidates (see module doc).
DEFAULT_VIOLENCE_PATTERN = (
    r"\b(?:kill(?:ed|ing|s)?|shot|shoot(?:ing|out)?|gun ?fight|gunmen|gunfire|firing|opened fire|"
    r"exchange of fire|fired|bod(?:y|ies)|combing operation|"
    r"attack(?:ed|s)?|ambush(?:ed)?|blast|bomb(?:ed|ing|s)?|explo(?:sion|sive|ded)|grenade|ied|"
    r"clash(?:ed|es)?|riot(?:s|ers|ing)?|mob|massacre|abduct(?:ed|ion)|kidnap(?:ped|ping)?|"
    r"encounter|militants?|insurgents?|stabbed|lynch(?:ed|ing)?|torched|set ablaze|dead|deaths?|"
    r"injur(?:ed|ies)|wounded|casualt(?:y|ies)|murder(?:ed|s)?|assassinat(?:ed|ion))\b"
)


class DatasetRule(Section):
    positive_any: list[str] = []
    ambiguous_any: list[str] = []
    negatives: Literal["rest", "none"] = "rest"
    screen_negatives: bool = True


def _default_rules() -> dict[str, DatasetRule]:
    return {
        "satp_all": DatasetRule(positive_any=["armed_assault", "bombing", "kidnapping", "other_attack"]),
        "IndiaPoliceEvents_docs": DatasetRule(positive_any=["KILL", "FORCE"], ambiguous_any=["FAIL"]),
        "insightCrime": DatasetRule(positive_any=["violence"], ambiguous_any=["extortion_kidnapping"]),
        "BBC_News": DatasetRule(screen_negatives=False),
    }


class WebPoolParams(Section):
    sources: list[Literal["dragnet", "cleaneval", "trafilatura-eval"]] = [
        "dragnet",
        "cleaneval",
        "trafilatura-eval",
    ]
    external: str = str(paths.EXTERNAL)
    dev_labels: str = str(paths.WEBNEWS_DEV)  # these ids are never pool texts
    languages: list[str] = ["en"]
    dev_copy_jaccard: float = 0.5  # a pool text this close to a dev text (word 5-grams) is dropped


class LabelsParams(Section):
    conflibert_root: str = str(paths.EXTERNAL / "conflibert")
    leakage_pairs: str = str(paths.LEAKAGE_PAIRS)
    leakage_kinds: list[Literal["exact", "normalized", "near"]] = ["exact", "normalized", "near"]
    leakage_action: Literal["move", "drop"] = "move"
    violence_pattern: str = DEFAULT_VIOLENCE_PATTERN
    # Source artefacts removed from the text so the model cannot key on them (IndiaPoliceEvents
    # documents all start with the Times of India archive banner).
    strip_patterns: list[str] = [r"^\s*this story is from [a-z]+ \d{1,2}, \d{4}\s*"]
    datasets: dict[str, DatasetRule] = _default_rules()
    web_pool: WebPoolParams | None = WebPoolParams()
    hits_chars: int = 5000  # violence_hits counts lexicon matches in this many leading characters


# --- pure rule functions -----------------------------------------------------------------------


def _check_columns(frame: pd.DataFrame, dataset: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise NewsauditError(
            f"params.yaml labels.datasets.{dataset}: label columns {missing} do not exist "
            f"(known: {list(conflibert.LABEL_NAMES.get(dataset, ()))})"
        )


def apply_rule(frame: pd.DataFrame, dataset: str, rule: DatasetRule, violence: re.Pattern) -> pd.Series:
    """Per row: 'positive', 'negative', 'ambiguous_label', 'ambiguous_text' or 'not_used'."""
    _check_columns(frame, dataset, rule.positive_any + rule.ambiguous_any)
    status = pd.Series("not_used", index=frame.index, dtype=object)
    pos = frame[rule.positive_any].astype(bool).any(axis=1) if rule.positive_any else False
    amb = frame[rule.ambiguous_any].astype(bool).any(axis=1) if rule.ambiguous_any else False
    pos = pd.Series(pos, index=frame.index)
    amb = pd.Series(amb, index=frame.index) & ~pos
    status[pos] = "positive"
    status[amb] = "ambiguous_label"
    if rule.negatives == "rest":
        cand = ~pos & ~amb
        if rule.screen_negatives:
            hits = frame["text"].str.contains(violence, regex=True)
            status[cand & hits] = "ambiguous_text"
            cand &= ~hits
        status[cand] = "negative"
    return status


def strip_artefacts(text: pd.Series, patterns: list[str]) -> pd.Series:
    for pat in patterns:
        text = text.str.replace(re.compile(pat, re.IGNORECASE), "", regex=True)
    return text


def duplicate_groups(pairs: pd.DataFrame, kinds: list[str]) -> dict[tuple[str, str, int], int]:
    """Union-find over pair rows: map each (dataset, split, row) in a pair to a group id."""
    parent: dict[tuple[str, str, int], tuple[str, str, int]] = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    sel = pairs[pairs["kind"].isin(kinds)]
    for d, sa, ra, sb, rb in zip(
        sel["dataset"], sel["split_a"], sel["row_a"], sel["split_b"], sel["row_b"], strict=True
    ):
        a, b = find((d, sa, int(ra))), find((d, sb, int(rb)))
        if a != b:
            parent[max(a, b)] = min(a, b)
    roots = sorted({find(k) for k in parent})
    ids = {r: i for i, r in enumerate(roots)}
    return {k: ids[find(k)] for k in sorted(parent)}


def resolve_leakage(labelled: pd.DataFrame, pairs: pd.DataFrame, kinds: list[str], action: str):
    """Keep every duplicate group on one split. Returns (frame, report).

    ``labelled`` needs ``source, orig_split, row, split``. Groups are computed over all pairs (also
    through rows left out of the label set), so A~B~C chains are honoured.
    """
    groups = duplicate_groups(pairs, kinds)
    keys = list(zip(labelled["source"], labelled["orig_split"], labelled["row"].astype(int), strict=True))
    gid = pd.Series([groups.get(k, -1) for k in keys], index=labelled.index)
    out = labelled.copy()
    rank = out["split"].map({s: i for i, s in enumerate(SPLIT_ORDER)})
    in_group = gid >= 0
    g, r = gid[in_group], rank[in_group]
    first = r.groupby(g).transform("min")
    late = r.index[r != first]  # rows on a later split than their group's earliest
    to_split = first.loc[late].map(dict(enumerate(SPLIT_ORDER)))
    n_groups = int(g.loc[late].nunique())
    moves = (out.loc[late, "split"] + "->" + to_split).value_counts().sort_index()
    if action == "move":
        out.loc[late, "split"] = to_split
    else:
        out = out.drop(index=late)
    report = {
        "kinds": sorted(kinds),
        "action": action,
        "labelled_rows_in_duplicate_groups": int(in_group.sum()),
        "groups_straddling_splits": n_groups,
        "rows_" + ("moved" if action == "move" else "dropped"): {k: int(v) for k, v in moves.items()},
    }
    return out.reset_index(drop=True), report


def assert_no_straddle(labelled: pd.DataFrame, pairs: pd.DataFrame, kinds: list[str]) -> None:
    """Raise if any kept duplicate pair has its two rows on different assigned splits."""
    split = {
        (s, o, int(r)): a
        for s, o, r, a in zip(
            labelled["source"], labelled["orig_split"], labelled["row"], labelled["split"], strict=True
        )
    }
    groups = duplicate_groups(pairs, kinds)
    seen: dict[int, str] = {}
    for key, g in groups.items():
        if key in split and seen.setdefault(g, split[key]) != split[key]:
            raise AssertionError(f"duplicate group {g} straddles splits at {key}")


def violence_hits(text: pd.Series, violence: re.Pattern, chars: int) -> pd.Series:
    return text.str.slice(0, chars).str.count(violence).astype("int32")


def web_rows(pool: pd.DataFrame) -> pd.DataFrame:
    """Pool texts as label rows: negatives by default, in the train split, never in a leakage pair."""
    out = pd.DataFrame(
        {
            "text": pool["text"].to_numpy(),
            "conflict_event": np.zeros(len(pool), dtype="int8"),
            "source": pool["source"].to_numpy(),
            "orig_split": "pool",
            "row": pool.groupby("source").cumcount().astype("int64").to_numpy(),
            "split": "train",
            "origin": "web",
            "doc_id": (pool["dataset"] + "/" + pool["doc_id"]).to_numpy(),
        }
    )
    return out


def build_labels(
    frames: dict[str, pd.DataFrame],
    pairs: pd.DataFrame,
    params: LabelsParams,
    pool: pd.DataFrame | None = None,
):
    """All rule and leakage logic, no I/O. Returns (labels frame, report dict).

    ``pool`` (``source, dataset, doc_id, text``) is general web text appended as ``origin = web``.
    """
    violence = re.compile(params.violence_pattern, re.IGNORECASE)
    parts, status_counts = [], {}
    for dataset, rule in sorted(params.datasets.items()):
        if dataset not in frames:
            raise NewsauditError(f"params.yaml labels.datasets: unknown dataset '{dataset}'")
        frame = frames[dataset]
        status = apply_rule(frame, dataset, rule, violence)
        status_counts[dataset] = {
            s: {k: int(v) for k, v in status[frame["split"] == s].value_counts().sort_index().items()}
            for s in SPLIT_ORDER
        }
        keep = status.isin(["positive", "negative"])
        parts.append(
            pd.DataFrame(
                {
                    "text": frame.loc[keep, "text"],
                    "conflict_event": (status[keep] == "positive").astype("int8"),
                    "source": dataset,
                    "orig_split": frame.loc[keep, "split"],
                    "row": frame.loc[keep, "row"].astype("int64"),
                    "split": frame.loc[keep, "split"],
                }
            )
        )
    labelled = pd.concat(parts, ignore_index=True)
    labelled["text"] = strip_artefacts(labelled["text"], params.strip_patterns)
    labelled, leak = resolve_leakage(labelled, pairs, list(params.leakage_kinds), params.leakage_action)
    assert_no_straddle(labelled, pairs, list(params.leakage_kinds))
    labelled["origin"] = "conflibert"
    labelled["doc_id"] = labelled["source"] + "/" + labelled["orig_split"] + "/" + labelled["row"].astype(str)
    if pool is not None and len(pool):
        labelled = pd.concat([labelled, web_rows(pool)], ignore_index=True)
    labelled["violence_hits"] = violence_hits(labelled["text"], violence, params.hits_chars)
    labelled = labelled.sort_values(["source", "orig_split", "row"], kind="stable").reset_index(drop=True)
    counts = labelled.groupby(["source", "split", "conflict_event"]).size().rename("n").reset_index()
    report = {
        "rows": len(labelled),
        "positives": int(labelled["conflict_event"].sum()),
        "by_source_split": {
            src: {
                sp: {
                    "positive": int(g[(g.split == sp) & (g.conflict_event == 1)]["n"].sum()),
                    "negative": int(g[(g.split == sp) & (g.conflict_event == 0)]["n"].sum()),
                }
                for sp in SPLIT_ORDER
            }
            for src, g in counts.groupby("source")
        },
        "rule_outcome_by_source_split": status_counts,
        "web_pool": {
            src: {"rows": len(g), "without_violence_terms": int((g["violence_hits"] == 0).sum())}
            for src, g in labelled[labelled["origin"] == "web"].groupby("source")
        },
        "leakage": leak,
    }
    return labelled, report


# --- I/O -----------------------------------------------------------------------------------------


def read_pairs(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise NewsauditError(f"{path}: leakage pairs not found (run `newsaudit leakage` first)")
    pairs = pd.read_parquet(path)
    missing = [c for c in PAIR_COLUMNS if c not in pairs.columns]
    if missing:
        raise NewsauditError(f"{path}: missing columns {missing} (expected {list(PAIR_COLUMNS)})")
    return pairs


def load_web_pool(params: WebPoolParams) -> tuple[pd.DataFrame, dict]:
    """The pool texts minus the dev set (by id and by near copy). Returns (pool, report)."""
    dev = webnews.read_devset(params.dev_labels, params.external)
    exclude = set(zip(dev["dataset"], dev["doc_id"], strict=True))
    pool, counts = webnews.read_pool(params.external, list(params.sources), exclude, list(params.languages))
    copies = webnews.near_copies(pool["text"].tolist(), dev["text"].tolist(), params.dev_copy_jaccard)
    for src, n in pool.loc[copies, "source"].value_counts().items():
        counts[src.removeprefix("web_")]["near_copy_of_dev_text"] = int(n)
    pool = pool[~copies].reset_index(drop=True)
    for src in counts:
        counts[src].setdefault("near_copy_of_dev_text", 0)
        counts[src]["kept"] = int((pool["source"] == f"web_{src}").sum())
    return pool, {"dev_labels": params.dev_labels, "dev_texts_excluded": len(exclude), "by_source": counts}
