"""The boilerplate step on small pages built here: what is removed and why, flags, pass-through,
determinism, and results that do not depend on how the table is cut into batches."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from newsaudit.core.config import Execution
from newsaudit.core.errors import NewsauditError
from newsaudit.engines import memory
from newsaudit.engines.dispatch import run_step
from newsaudit.lib.tables import read_small
from newsaudit.pipeline.reference import annotate_boilerplate
from newsaudit.steps.boilerplate.clean import annotate_batch
from newsaudit.steps.boilerplate.params import BoilerplateParams
from newsaudit.steps.boilerplate.stats import corpus_stats, stats_from_files, top_lines
from newsaudit.steps.boilerplate.step import BoilerplateStep


@pytest.fixture(params=["fallback-rule", "trained-line-model"])
def line_model(request):
    return None if request.param == "fallback-rule" else request.getfixturevalue("trained_line_model")


def test_menafn_page_keeps_article_and_loses_the_rest(line_model, make_pages, menafn_page, article):
    out, removed = annotate_boilerplate(make_pages([menafn_page]), BoilerplateParams(), line_model)
    row = out.iloc[0]
    clean = row["clean_text"]
    for paragraph in article[1:]:
        assert paragraph in clean
    for gone in (
        "Sorry!!",
        "403",
        "doesn't exist",
        "Legal Disclaimer",
        "without warranty",
        "Comments",
        "No comment",
    ):
        assert gone not in clean, gone
    assert not row["is_error_page"]
    assert row["clean_status"] == "ok"
    assert row["error_prefix_chars"] == len("403") + len("Sorry!!") + len(
        "Error! We're sorry, but the page you were looking for doesn't exist."
    )
    assert row["error_prefix_kind"] == "403"
    reasons = dict(zip(removed["text"], removed["reason"].astype(str), strict=True))
    assert reasons["Sorry!!"] == "error_page"
    assert reasons["Legal Disclaimer:"] == "pattern"
    assert reasons["No comment"] == "pattern"
    assert 0 < row["boilerplate_frac"] < 0.6
    assert row["boilerplate_chars"] == removed["text"].str.len().sum()


def test_empty_all_boilerplate_and_error_only_pages_are_flagged(make_pages):
    nav = "\n".join(
        [
            "Home",
            "World",
            "Business",
            "Sport",
            "Contact us",
            "Privacy policy",
            "Terms of use",
            "Share on Facebook",
            "Share on Twitter",
            "Subscribe",
            "Log in",
            "Newsletter",
            "Follow us",
            "Advertisement",
            "Most read",
            "Copyright 2024 Example Media. All rights reserved.",
            "Jobs",
            "Careers",
            "About us",
            "Help",
            "Site map",
            "Weather",
            "Podcasts",
            "Video",
        ]
    )
    error_only = "404 Not Found\nThe page you requested could not be found.\nReturn to homepage"
    out, removed = annotate_boilerplate(
        make_pages(["", nav, error_only, "   \n \n"]), BoilerplateParams(), None
    )
    status = dict(zip(out["doc_id"], out["clean_status"], strict=True))
    assert status == {
        "d000": "empty_input",
        "d001": "all_boilerplate",
        "d002": "error_page",
        "d003": "empty_input",
    }
    assert out["is_error_page"].tolist() == [True, False, True, True]
    assert out.loc[2, "error_kind"] == "404"
    assert out.loc[0, "error_kind"] == "empty_shell"
    # Flagged, not silently emptied: the removed lines say why.
    assert set(removed.loc[removed["doc_id"] == "d002", "reason"].astype(str)) == {"error_page"}
    assert (out["clean_text"] == "").all()


def test_short_page_without_error_words_is_an_empty_shell(make_pages):
    out, _ = annotate_boilerplate(make_pages(["Loading...\nMenu\nSearch"]), BoilerplateParams(), None)
    assert out.loc[0, "is_error_page"]
    assert out.loc[0, "error_kind"] == "empty_shell"


def test_rejected_rows_pass_through_untouched(make_pages, menafn_page):
    pages = make_pages([menafn_page, None], status=["accepted", "rejected"])
    pages.loc[1, "status_reason"] = "binary"
    out, removed = annotate_boilerplate(pages, BoilerplateParams(), None)
    assert len(out) == 2
    assert pd.isna(out.loc[1, "clean_text"]) and pd.isna(out.loc[1, "is_error_page"])
    pd.testing.assert_frame_equal(out[pages.columns], pages)
    assert set(removed["doc_id"]) == {"d000"}


def test_input_frame_not_modified_and_output_deterministic(make_pages, menafn_page, article):
    pages = make_pages([menafn_page, "\n".join(article)])
    before = pages.copy()
    a = annotate_boilerplate(pages, BoilerplateParams(), None)
    b = annotate_boilerplate(pages, BoilerplateParams(), None)
    pd.testing.assert_frame_equal(pages, before)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])


def test_the_input_index_is_kept(make_pages, menafn_page, article):
    pages = make_pages([menafn_page, "\n".join(article)])
    pages.index = ["x", "y"]
    out, _ = annotate_boilerplate(pages, BoilerplateParams(), None)
    assert out.index.tolist() == ["x", "y"]


LETTERS = [chr(ord("A") + i) * 3 for i in range(26)]


def _site_pages(n: int, footer: list[str], source: str | None) -> tuple[list[str], list[str | None]]:
    # Digits are folded by the template normalisation, so pages differ by words, not numbers.
    towns = ["Alder", "Birch", "Cedar", "Dover", "Elm", "Fir", "Garth", "Heath", "Ivy", "Juniper"]
    topics = ["bridge", "school", "market", "library", "harbour", "tram line", "clinic", "park", "museum"]
    texts = []
    for i in range(n):
        town, topic = towns[i % len(towns)], topics[i % len(topics)]
        body = [
            f"The council of {town} met to discuss the {topic} and agreed that repairs to the {topic} in "
            f"{town} would start before the winter season, the {town} mayor said."
        ]
        texts.append("\n".join(body + footer))
    return texts, [source] * n


def test_site_template_lines_removed_per_source(make_pages):
    footer = [
        "Read our community guidelines before posting",
        "Example Media Group is a member of the regional press council and follows its code of practice "
        "for all journalism published on this site and in print editions.",
    ]
    texts, sources = _site_pages(25, footer, "example.com")
    out, removed = annotate_boilerplate(make_pages(texts, sources), BoilerplateParams(), None)
    tmpl = removed[removed["reason"] == "site_template"]
    assert set(tmpl["text"]) == set(footer)
    assert tmpl["doc_id"].nunique() == 25
    assert all("The council of" in t for t in out["clean_text"])


def test_syndicated_paragraph_not_removed_as_corpus_template(make_pages):
    # The same long agency paragraph on pages without source (a folder of dumps): it is article
    # text, so it must not become a corpus-wide template; a short repeated footer still does.
    syndicated = (
        "The agency said the ceasefire talks would resume next week in the capital, after both sides "
        "agreed to exchange prisoners and to open two humanitarian corridors for civilians."
    )
    texts = []
    for i in range(12):
        texts.append(
            "\n".join(
                [
                    f"Local edition of {LETTERS[i]}: residents of {LETTERS[i]}ton reacted with cautious hope "
                    "to the news, "
                    f"the mayor of {LETTERS[i]}ville told reporters on the steps of the town hall.",
                    syndicated,
                    "Share this article",
                    "Powered by Example CMS",
                ]
            )
        )
    out, removed = annotate_boilerplate(make_pages(texts), BoilerplateParams(), None)
    assert all(syndicated in t for t in out["clean_text"])
    assert set(removed.loc[removed["text"] == "Powered by Example CMS", "reason"].astype(str)) == {
        "site_template"
    }


def test_corpus_stats_json_is_stable(make_pages, menafn_page):
    pages = make_pages([menafn_page, "", "404 Not Found"], sources=["menafn.com", None, "x.org"])
    out, removed = annotate_boilerplate(pages, BoilerplateParams(), None)
    a = json.dumps(corpus_stats(out, removed, BoilerplateParams()), sort_keys=True)
    b = json.dumps(corpus_stats(out, removed, BoilerplateParams()), sort_keys=True)
    assert a == b
    stats = json.loads(a)
    assert stats["error_pages_by_kind"] == {"404": 1, "empty_shell": 1}
    assert stats["error_prefixes_by_kind"] == {"403": 1}
    assert stats["pages_empty_after_cleaning"] == 2


# --------------------------------------------------------------------------------------------
# Batches: a page's result depends on the page and the template index only


@pytest.fixture(scope="module")
def templated(make_pages, menafn_page, article) -> pd.DataFrame:
    """Two sources with their own header/footer lines (templates), pages without a source (pooled
    scope), an error page, an empty page and a rejected row, in an order that spreads every kind
    over several batches."""
    texts, sources, status = [], [], []
    for i in range(70):
        src = ("a.example", "b.example", None)[i % 3]
        header = {"a.example": "A Daily | Home | World", "b.example": "B Times — Subscribe now"}.get(
            src, "Menu"
        )
        body = [f"{line} Item {i}." for line in article[1:]]
        texts.append("\n".join([header, f"Headline number {i}", *body, "© 2024 All rights reserved"]))
        sources.append(src)
        status.append("accepted")
    texts += [menafn_page, "", "404 Not Found\nSorry!!", None]
    sources += ["a.example", None, "b.example", None]
    status += ["accepted", "accepted", "accepted", "rejected"]
    return make_pages(texts, sources, status)


TEMPLATED_PARAMS = BoilerplateParams(template_source_min_pages=10)


def test_batches_cleaned_alone_give_the_whole_tables_rows(templated):
    """``annotate_batch`` on any slice, with the corpus-wide template index, gives the slice's rows."""
    step = BoilerplateStep(TEMPLATED_PARAMS, None)
    scan = step.phases()[0]
    index = scan.finish(scan.merge([scan.partial(templated, {})]), {})["templates"]
    whole, whole_removed = annotate_batch(templated, index, TEMPLATED_PARAMS, None)
    for size in (1, 7, 30):
        parts = [
            annotate_batch(templated.iloc[i : i + size], index, TEMPLATED_PARAMS, None)
            for i in range(0, len(templated), size)
        ]
        pd.testing.assert_frame_equal(pd.concat([p[0] for p in parts]), whole)
        removed = pd.concat([p[1] for p in parts], ignore_index=True)
        pd.testing.assert_frame_equal(removed, whole_removed)


def test_top_lines_counted_batch_by_batch_are_the_whole_tables(templated):
    """The top template and pattern lines, counted over batches of removed lines cut anywhere (a
    page's lines split across batches), are those of one group-by over the whole table."""
    out, removed = annotate_boilerplate(templated, TEMPLATED_PARAMS, None)
    whole = top_lines([removed], out, 50)
    assert len(whole) > 3 and max(r["pages"] for r in whole) >= 10
    assert any(r["sources"] > 1 for r in whole) and {r["reason"] for r in whole} <= {
        "site_template",
        "pattern",
    }
    for size in (1, 2, 5, 64):
        batches = [removed.iloc[i : i + size] for i in range(0, len(removed), size)]
        assert top_lines(batches, out, 50) == whole, size
    # the counts are pages, not lines: a page's line repeated in the next batch counts once
    at = int(np.flatnonzero(removed["reason"].astype(str).isin(["site_template", "pattern"]))[-1])
    again = [removed.iloc[: at + 1], removed.iloc[at : at + 1], removed.iloc[at + 1 :]]
    assert top_lines(again, out, 50) == whole


@pytest.mark.parametrize(("rows", "workers"), [(7, 1), (16, 2)])
def test_stream_files_equal_the_in_memory_step_and_its_stats(tmp_path, templated, rows, workers):
    src = tmp_path / "pages.parquet"
    templated.to_parquet(src, index=False)
    out, removed = tmp_path / "clean.parquet", tmp_path / "removed.parquet"
    step = BoilerplateStep(TEMPLATED_PARAMS, None)
    run_step(step, Execution(engine="stream"), src, out, {"removed_lines": removed}, rows, workers)
    want, want_removed = annotate_boilerplate(pd.read_parquet(src), TEMPLATED_PARAMS, None)
    got = pd.read_parquet(out)
    for col in (
        "clean_text",
        "clean_status",
        "is_error_page",
        "error_kind",
        "boilerplate_chars",
        "n_lines_kept",
    ):
        assert got[col].astype(object).where(got[col].notna(), None).tolist() == (
            want[col].astype(object).where(want[col].notna(), None).tolist()
        ), col
    got_removed = pd.read_parquet(removed)
    key = ["doc_id", "line_no"]
    pd.testing.assert_frame_equal(
        got_removed[[*key, "text"]], want_removed[[*key, "text"]], check_dtype=False
    )
    assert got_removed["reason"].astype(str).tolist() == want_removed["reason"].astype(str).tolist()
    # the statistics from the files (no page text, only template and pattern lines read) are the
    # in-memory statistics
    assert stats_from_files(read_small(out), removed, TEMPLATED_PARAMS) == corpus_stats(
        want, want_removed, TEMPLATED_PARAMS
    )
    # the templates were found: every source's header went as a site template
    assert (got_removed["reason"].astype(str) == "site_template").sum() >= 60
    assert not list(tmp_path.glob("*.partial"))


def test_missing_columns_are_named(tmp_path):
    src = tmp_path / "pages.parquet"
    pd.DataFrame({"doc_id": ["a"], "raw_text": ["x"]}).to_parquet(src)
    step = BoilerplateStep(BoilerplateParams(), None)
    with pytest.raises(NewsauditError, match=r"pages.parquet.*status"):
        run_step(
            step,
            Execution(engine="stream"),
            src,
            tmp_path / "o.parquet",
            {"removed_lines": tmp_path / "r.parquet"},
        )
    with pytest.raises(NewsauditError, match=r"lacks column\(s\) \['status'\]"):
        memory.run(step, pd.read_parquet(src))


def test_no_accepted_page_gives_empty_outputs(make_pages):
    out, removed = annotate_boilerplate(make_pages([None], status=["rejected"]), BoilerplateParams(), None)
    assert out["clean_text"].isna().all() and removed.empty
    assert list(removed.columns) == ["doc_id", "line_no", "text", "reason"]
    assert np.array_equal(out["status"], ["rejected"])
