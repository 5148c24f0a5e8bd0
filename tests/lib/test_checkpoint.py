"""Fingerprints and markers (lib/checkpoint.py): what makes a finished step trusted again."""

from __future__ import annotations

import os

from newsaudit.lib import checkpoint


def test_tree_stamp_follows_names_sizes_and_times(tmp_path):
    root = tmp_path / "crawl"
    (root / "site").mkdir(parents=True)
    page = root / "site" / "a.html"
    page.write_text("<p>one</p>")
    first = checkpoint.tree_stamp(root)
    assert checkpoint.tree_stamp(root) == first
    st = page.stat()
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    touched = checkpoint.tree_stamp(root)
    (root / "site" / "b.html").write_text("<p>two</p>")
    grown = checkpoint.tree_stamp(root)
    (root / "site" / "b.html").rename(root / "site" / "c.html")
    renamed = checkpoint.tree_stamp(root)
    assert len({first, touched, grown, renamed}) == 4
    assert checkpoint.tree_stamp(page) != checkpoint.tree_stamp(root / "site" / "c.html")


def test_a_marker_is_read_back_only_with_its_fingerprint(tmp_path):
    checkpoint.write_marker(tmp_path, "boilerplate", "abc", {"table": "boilerplate.parquet", "b": 1, "a": 2})
    record = checkpoint.read_marker(tmp_path, "boilerplate", "abc")
    assert record["table"] == "boilerplate.parquet" and list(record)[-2:] == ["b", "a"]  # order kept
    assert checkpoint.read_marker(tmp_path, "boilerplate", "other") is None
    assert checkpoint.read_marker(tmp_path, "duplicates", "abc") is None
    checkpoint.marker_path(tmp_path, "boilerplate").write_text('{"fingerprint": "ab')  # cut short
    assert checkpoint.read_marker(tmp_path, "boilerplate", "abc") is None
    assert not list(tmp_path.glob("*.partial"))


def test_digest_ignores_key_order_but_not_values():
    assert checkpoint.digest({"a": 1, "b": [1, 2]}) == checkpoint.digest({"b": [1, 2], "a": 1})
    assert checkpoint.digest({"a": 1}) != checkpoint.digest({"a": 1.5})
