"""Matching words in the event table's text columns (cause, name, failure).

Those columns are categorical: a row holds a code, and the texts are few. A text condition is
therefore decided once per distinct text and applied as `is_in`; casting the column to strings
to search it would copy millions of rows (a 2 GB log's 2 M events) for a handful of texts.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl


def texts_containing(column: pl.Series, words: Iterable[str]) -> list[str]:
    """The distinct texts of `column` that contain any of `words`, ignoring case."""
    lowered = [word.lower() for word in words]
    texts = column.unique().drop_nulls().cast(pl.String).to_list()
    return [text for text in texts if any(word in text.lower() for word in lowered)]


def contains_any(frame: pl.DataFrame, column: str, words: Iterable[str]) -> pl.Expr:
    """Rows of `frame` whose `column` contains any of `words`, ignoring case (null: False)."""
    if column not in frame.columns:
        return pl.lit(False)
    return pl.col(column).is_in(texts_containing(frame.get_column(column), words)).fill_null(False)
