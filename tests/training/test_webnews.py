"""The web-news dev set reader and the web pool: real files where they are fetched, bad input named."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsaudit.core.errors import NewsauditError
from newsaudit.training.labels import WebPoolParams, load_web_pool
from newsaudit.training.webnews import gold_text, near_copies, read_devset

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "data" / "annotations" / "webnews_dev" / "labels.csv"
EXTERNAL = ROOT / "data" / "external"


@pytest.fixture(scope="module")
def external() -> Path:
    if not (EXTERNAL / "dragnet-data" / "Corrected").is_dir() or not (EXTERNAL / "cleaneval").is_dir():
        pytest.skip("dragnet-data / cleaneval not fetched (run `newsaudit fetch`)")
    return EXTERNAL


def test_the_committed_dev_set_reads_with_its_stated_size_and_base_rate(external):
    dev = read_devset(DEV, external)
    assert len(dev) == 1082
    assert dev["label"].value_counts().to_dict() == {"not": 1076, "unsure": 4, "conflict": 2}
    random = dev[dev["sample"] == "random"]
    assert len(random) == 960 and (random["label"] == "conflict").sum() == 2  # 0.21 % base rate
    assert dev["text"].str.len().min() > 0


def test_dragnet_comments_and_cleaneval_markup_are_removed():
    raw = b"Title\nThe story.\n\n!@#$%^&*() COMMENTS\nreader: great\n"
    assert gold_text("dragnet", raw) == "Title\nThe story."
    assert (
        gold_text("cleaneval-final", b"URL: http://x.org/a\n<p>First para.\n<h>Head\n") == "First para.\nHead"
    )


@pytest.mark.parametrize(
    "row, message",
    [
        ("dragnet,1,random,maybe", "label 'maybe'"),
        ("webz,1,random,not", "unknown dataset 'webz'"),
        ("dragnet,nope,random,not", "dragnet/nope not found"),
    ],
)
def test_bad_dev_rows_are_named(tmp_path, row, message):
    (tmp_path / "dragnet-data" / "Corrected").mkdir(parents=True)
    (tmp_path / "dragnet-data" / "Corrected" / "1.html.corrected.txt").write_text("text", encoding="utf-8")
    path = tmp_path / "labels.csv"
    path.write_text(f"dataset,doc_id,sample,label\n{row}\n", encoding="utf-8")
    with pytest.raises(NewsauditError, match=message):
        read_devset(path, tmp_path)


def test_a_duplicated_dev_id_is_an_error(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text(
        "dataset,doc_id,sample,label\ndragnet,1,random,not\ndragnet,1,random,not\n", encoding="utf-8"
    )
    with pytest.raises(NewsauditError, match="listed twice"):
        read_devset(path, tmp_path)


def test_near_copies_find_an_edited_copy_and_not_a_different_text():
    base = " ".join(f"word{i}" for i in range(80))
    edited = base.replace("word40", "changed")
    other = " ".join(f"other{i}" for i in range(80))
    assert near_copies([edited, other], [base], 0.5).tolist() == [True, False]


def test_the_pool_never_holds_a_dev_text(external):
    pool, report = load_web_pool(
        WebPoolParams(sources=["dragnet", "cleaneval"], external=str(external), dev_labels=str(DEV))
    )
    dev = read_devset(DEV, external)
    dev_ids = set(dev["dataset"] + "/" + dev["doc_id"])
    assert not dev_ids & set(pool["dataset"] + "/" + pool["doc_id"])
    assert not near_copies(pool["text"].tolist(), dev["text"].tolist(), 0.5).any()
    for src, counts in report["by_source"].items():
        accounted = (
            counts["dev_set_ids"]
            + counts["empty"]
            + counts["other_language"]
            + counts["near_copy_of_dev_text"]
        )
        assert counts["kept"] + accounted == counts["files"], src
    assert set(pool["language"]) == {"en"}
