"""Markdown as GitHub renders it (cmarkgfm is GitHub's own renderer), read back as tables."""

from __future__ import annotations

from html.parser import HTMLParser

import cmarkgfm


class Tables(HTMLParser):
    """Cell texts of every table in rendered HTML; which cells were bold."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.bold: list[str] = []
        self._cell: list[str] | None = None
        self._in_bold = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "strong":
            self._in_bold = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "strong":
            self._in_bold = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
            if self._in_bold:
                self.bold.append(data)


def rendered(markdown: str) -> Tables:
    """The tables of ``markdown`` rendered as GitHub renders it."""
    tables = Tables()
    tables.feed(cmarkgfm.github_flavored_markdown_to_html(markdown))
    return tables
