"""Parameters of the boilerplate step (``params.yaml`` section ``boilerplate``)."""

from __future__ import annotations

from newsaudit.core.config import Section


class BoilerplateParams(Section):
    """``boilerplate`` section of params.yaml."""

    # Site templates: a normalised line is a template of a scope (a source with at least
    # template_source_min_pages pages, else the corpus-wide pool of remaining pages) when it is on at
    # least template_min_pages pages and on at least template_min_page_frac of the scope's pages.
    template_source_min_pages: int = 20
    template_min_pages: int = 5
    template_min_page_frac: float = 0.05
    # Corpus-wide templates longer than this are only removed when they look like furniture
    # (keywords of copyright, cookies, sharing...): a syndicated article paragraph carried by many
    # outlets is long prose and is left to the line model.
    template_max_words: int = 12
    # Error pages: error lines are short; an error block must start within the first lines.
    error_line_max_words: int = 25
    error_scan_lines: int = 12
    # A page with an error line and fewer content words than this left is an error page.
    error_page_max_content_words: int = 60
    # A page with fewer words than this and no kept content is an empty shell.
    empty_shell_max_words: int = 40
    pattern_max_words: int = 60
    # Without a trained line model, keep lines with at least this many words (baseline rule).
    fallback_min_words: int = 15
    top_lines: int = 25
    batch_rows: int = 2000  # pages per Parquet batch (bounds memory)
