"""The request class: a chunked body over the size limit is refused, not cut."""

from __future__ import annotations

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge


class BoundedRequest(Request):
    """A body sent chunked (no Content-Length) is read through werkzeug's stream limited to max_content_length,
    which stops at the limit without a word: the app took the first 256 KB of a longer body as the whole one
    and registered what it said. A chunked body that reaches the limit is refused (413) instead."""

    def get_data(self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False):  # type: ignore[override]
        data = super().get_data(cache=cache, as_text=False, parse_form_data=parse_form_data)
        limit = self.max_content_length
        if limit is not None and self.content_length is None and len(data) >= limit:
            raise RequestEntityTooLarge()
        return data.decode(errors="replace") if as_text else data
