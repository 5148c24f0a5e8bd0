"""The ablation: its rows, its verdicts, and one small run end to end (with resuming)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from newsaudit.training import recipe
from newsaudit.training.ablation import markdown_table, passage_scorer, run_ablation, variants, verdict
from newsaudit.training.features import CountViews
from newsaudit.training.labels import DatasetRule, LabelsParams
from newsaudit.training.train import TrainParams


def test_every_row_changes_one_thing_and_names_are_unique():
    shipped = TrainParams()
    rows = variants(shipped)
    names = [v.name for v in rows]
    assert names[:2] == ["shipped", "first_shipped"] and len(names) == len(set(names))
    for v in rows[2:]:
        changed = shipped.model_copy(update=v.train) != shipped
        assert changed or v.flip_screening or v.passage_weight, v.name
    # the shipped value never appears as its own alternative
    assert f"C_{shipped.c_grid[0]:g}" not in names
    assert f"web_{shipped.web_negatives}" not in names


class _BestRowModel:
    """Decision value = the row's number: a passage's score says which passage won."""

    def decision(self, views, rows):
        return np.asarray(rows, dtype=float)


def test_lead_passages_come_from_the_first_characters_only():
    # a quiet lead, then the incident 150 words in
    texts = [" ".join(["calm"] * 150 + ["bomb"] * 60), " ".join(["calm"] * 40)]
    whole = CountViews(texts, recipe.view_specs(TrainParams(char_ngrams=False)), 1)
    passage_scorer(whole, texts, weight=1.0)
    lead = CountViews(texts, recipe.view_specs(TrainParams(char_ngrams=False)), 1)
    score = passage_scorer(lead, texts, weight=1.0, chars=300)  # about the first 60 words
    assert whole.n - 2 == 7 and lead.n - 2 == 1 + 1  # windows of 60 words every 30; 1 each in the lead
    assert score(_BestRowModel(), np.array([0, 1])).tolist() == [2.0, 3.0]
    # the window with the incident lies past the lead and is never scored there
    bomb = list(lead.views[0].terms).index("bomb")
    assert lead.views[0].counts[2:, bomb].sum() == 0 < whole.views[0].counts[2:, bomb].sum()


def test_verdicts_name_what_moved():
    base = {"min_pr_auc": 0.9, "mean_pr_auc": 0.92, "min_f1": 0.5, "BBC_fpr": 0.01, "dev_fpr": 0.02}
    assert verdict(dict(base), base, 0.005).startswith("no difference")
    assert verdict({**base, "min_pr_auc": 0.95}, base, 0.005).startswith("better on min_pr_auc")
    assert verdict({**base, "dev_fpr": 0.05}, base, 0.005) == "worse on dev_fpr: shipped choice kept"
    mixed = verdict({**base, "min_pr_auc": 0.95, "BBC_fpr": 0.05}, base, 0.005)
    assert mixed.startswith("trade-off") and "BBC_fpr" in mixed
    assert verdict({**base, "min_f1": None}, base, 0.005).startswith("no difference")  # pooled rows


def _frames():
    """ConfliBERT-shaped frames: two sources with both classes and a negative-only one."""
    cases = {
        "satp_all": (
            "militants attacked a camp in {p} and killed {n}",
            "officials met in {p} about roads {n}",
        ),
        "insightCrime": ("gunmen shot {n} police officers in {p}", "the court in {p} heard a tax case {n}"),
    }
    places = ["Sukma", "Cali", "Imphal", "Tumaco", "Quetta", "Mosul"]
    frames = {}
    for name, (pos, neg) in cases.items():
        recs = []
        for i in range(60):
            split = "train" if i % 5 < 3 else ("dev" if i % 5 == 3 else "test")
            text = (pos if i % 3 == 0 else neg).format(p=places[i % 6], n=i)
            label = (
                {"armed_assault": int(i % 3 == 0)} if name == "satp_all" else {"violence": int(i % 3 == 0)}
            )
            recs.append({"dataset": name, "split": split, "row": i, "text": text, **label})
        frames[name] = pd.DataFrame(recs)
    recs = [
        {
            "dataset": "BBC_News",
            "split": ["train", "dev", "test"][i % 3],
            "row": i,
            "text": f"the striker scored {i}",
            "politics": 0,
        }
        for i in range(30)
    ]
    frames["BBC_News"] = pd.DataFrame(recs)
    for f in frames.values():
        f["row"] = f.groupby("split").cumcount()
    return frames


def test_a_small_ablation_runs_judges_and_resumes():
    frames = _frames()
    params = LabelsParams(
        web_pool=None,
        datasets={
            "satp_all": DatasetRule(positive_any=["armed_assault"]),
            "insightCrime": DatasetRule(positive_any=["violence"]),
            "BBC_News": DatasetRule(screen_negatives=False),
        },
    )
    pairs = pd.DataFrame(columns=["dataset", "split_a", "row_a", "split_b", "row_b", "kind"])
    dev = pd.DataFrame(
        {
            "dataset": ["dragnet", "dragnet", "cleaneval-final"],
            "doc_id": ["1", "2", "3"],
            "sample": ["random", "random", "lexicon_screened"],
            "label": ["conflict", "not", "not"],
            "text": [
                "rebels attacked a post in Mosul and killed 5",
                "a cake recipe",
                "the striker scored twice",
            ],
        }
    )
    dev["y"] = dev["label"].map({"conflict": 1.0, "not": 0.0})
    shipped = TrainParams(
        min_df=1, word_max_features=None, char_ngrams=False, vocab_min_sources=0, min_flagged=1
    )
    saved = []
    results, seconds = run_ablation(
        frames, pairs, None, dev, params, shipped, only=["C_4"], on_row=saved.append
    )
    assert set(results["rows"]) == {"shipped", "C_4"} and len(saved) == 2
    assert results["rows"]["shipped"]["verdict"] == "shipped"
    assert results["rows"]["C_4"]["C"] == 4.0 and results["rows"]["C_4"]["verdict"]
    assert results["rows"]["shipped"]["dev_conflict_ranks"] == [1]
    again, seconds = run_ablation(
        frames, pairs, None, dev, params, shipped, only=["C_4"], done=results["rows"]
    )
    assert seconds == {} and set(again["rows"]) == {"shipped", "C_4"}


def test_markdown_table_judges_a_stopped_run_against_the_shipped_row():
    base = {"what": "the recipe", "min_pr_auc": 0.90, "mean_pr_auc": 0.92, "min_f1": 0.7, "dev_fp": 3}
    better = {**base, "what": "C = 4", "min_pr_auc": 0.95}
    table = markdown_table({"rows": {"C_4": better, "shipped": base}, "complete": False}).splitlines()
    assert table[0].startswith("| row | what | worst LOSO PR-AUC") and len(table) == 4
    assert table[2].startswith("| `shipped` | the recipe | 0.900 | 0.920 | 0.700 | – | 3 |")
    assert table[3].endswith("| better on min_pr_auc: the shipped choice should change |")
