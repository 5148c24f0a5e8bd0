"""Training, skops round trip and behavioural tests (Made-With-ML style) on a corpus built here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from newsaudit.core.errors import NewsauditError
from newsaudit.steps.classify.model import load_model, normalise_text, save_model
from newsaudit.training.train import model_card, train_model


@pytest.fixture(scope="module")
def trained(make_labels, small_train_params):
    labels = make_labels()
    bundle, summary = train_model(labels, small_train_params)
    return labels, bundle, summary


def prob(bundle, texts: list[str]) -> np.ndarray:
    return bundle["model"].predict_proba(texts)[:, 1]


def test_normalise_text_removes_case_punctuation_digits_and_accents():
    assert normalise_text("Militants KILLED 12, in Bogotá!") == "militants killed 00 in bogota"


def test_train_model_selects_from_grid_and_sets_an_out_of_source_threshold(trained, small_train_params):
    _, bundle, summary = trained
    assert summary["selected_C"] in small_train_params.c_grid
    assert set(summary["selection_scores"]) == {"1", "4"}
    assert 0.0 < bundle["threshold"] < 1.0
    assert summary["threshold_rule"]["binding_source"] in {"cased", "lower", "nopunct"}
    assert summary["dev"]["f1"] > 0.9
    # the threshold keeps every held-out source's precision at the bound
    for m in summary["out_of_source_at_threshold"].values():
        assert m["precision"] >= small_train_params.min_precision


def test_the_calibrated_model_maps_the_decision_threshold_to_the_probability_threshold(trained):
    labels, bundle, _ = trained
    model = bundle["model"]
    pipe = model.calibrated_classifiers_[0].estimator
    texts = labels["text"].tolist()
    by_decision = pipe.decision_function(texts) >= bundle["decision_threshold"]
    by_prob = model.predict_proba(texts)[:, 1] >= bundle["threshold"]
    assert (by_decision == by_prob).all()


def test_missing_class_in_a_split_is_a_clear_error(make_labels, small_train_params):
    labels = make_labels()
    labels.loc[labels["split"] == "dev", "conflict_event"] = 0
    with pytest.raises(NewsauditError, match="split 'dev'"):
        train_model(labels, small_train_params)


def test_skops_round_trip_predicts_the_same(trained, tmp_path: Path):
    labels, bundle, _ = trained
    path = tmp_path / "m.skops"
    save_model(bundle, path)
    loaded = load_model(path)
    texts = labels["text"].tolist()
    np.testing.assert_allclose(prob(loaded, texts), prob(bundle, texts))
    assert loaded["threshold"] == bundle["threshold"]


def test_load_model_names_the_command_when_missing(tmp_path: Path):
    with pytest.raises(NewsauditError, match="newsaudit train"):
        load_model(tmp_path / "absent.skops")


def test_model_card_mentions_rules_params_metrics_and_no_time(trained, small_train_params):
    _, _, summary = trained
    card = model_card(summary, small_train_params, {"datasets": {"x": {"positive_any": ["a"]}}}, None)
    for needle in ("positive_any", "c_grid", "Dev metrics", "precision >= 0.9"):
        assert needle in card
    assert " s on this machine" not in card  # wall-clock time would change the card's hash every run


# --- behavioural tests ---------------------------------------------------------------------------


def test_invariance_place_name_does_not_change_the_prediction(trained):
    _, bundle, _ = trained
    base = "rebels attacked a police post in {} and killed 7 officers. officials said on monday."
    probs = prob(bundle, [base.format(p) for p in ("Kandahar", "Springfield", "Tromso")])
    labels = probs >= bundle["threshold"]
    assert labels.all()
    assert probs.max() - probs.min() < 0.2


def test_directional_adding_an_attack_raises_the_probability(trained):
    _, bundle, _ = trained
    calm = "the finance minister presented the budget in Cali and promised lower taxes."
    worse = calm + " hours later militants attacked the town and killed 12 people."
    p_calm, p_worse = prob(bundle, [calm, worse])
    assert p_worse > p_calm + 0.1


def test_minimum_functionality_on_clear_examples(trained):
    _, bundle, _ = trained
    texts = [
        "gunmen ambushed an army convoy near Mosul, 5 soldiers were shot dead",
        "a bomb exploded in a market in Quetta, killing 9 people",
        "the local football club won the cup final after extra time",
        "a new hospital opened with 40 beds and a maternity ward",
    ]
    assert (prob(bundle, texts) >= bundle["threshold"]).tolist() == [True, True, False, False]


@pytest.mark.slow
def test_real_model_behaviour():
    path = Path("models/conflict_clf.skops")
    if not path.is_file():
        pytest.skip("models/conflict_clf.skops not built (run `dvc repro train`)")
    bundle = load_model(path)
    attack = (
        "Militants attacked a checkpoint near {} on Tuesday and killed four soldiers; "
        "two attackers were shot dead in the gunfight that followed, officials said."
    )
    calm = "The city council of {} approved a new budget for schools and parks on Tuesday."
    probs = prob(bundle, [attack.format("Kunduz"), attack.format("Lagos"), calm.format("Lyon")])
    assert probs[0] >= bundle["threshold"] and probs[1] >= bundle["threshold"]
    assert probs[2] < bundle["threshold"]
    siege = (
        "A joint operation lifted a militant siege of a military academy near Aleppo and "
        "evacuated the trapped cadets after heavy fighting."
    )
    assert prob(bundle, [siege])[0] > probs[2]
