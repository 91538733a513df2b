"""Who is reading: resolved once per request, it owns the list of graphs a read may touch.

Public code gets `PUBLIC` and has no way to name a restricted graph: store reads take an
Audience, never a graph list. A restricted audience is made from an authenticated principal and
carries the audit hook (app/auth/audit.py `audience`): the store's readers call `read` before they
hand restricted data over, so every surface that reads through the store is audited by the reader
itself, never by remembering it in each blueprint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from app.namespaces import (
    GRAPH_CODELISTS,
    GRAPH_PUBLIC,
    GRAPH_RESTRICTED,
    GRAPH_VERSIONS_PUBLIC,
    GRAPH_VERSIONS_RESTRICTED,
)

# (surface, IRIs read, whether it was a bulk read, details): writes the audit entry or raises (no unlogged read)
# (surface, IRIs read, many: a dump, answer: a query's answer, details); raises when it cannot log
ReadLog = Callable[[str, Sequence[str], bool, bool, dict], None]


@dataclass(frozen=True)
class Audience:
    restricted: bool
    principal: object | None = None
    surface: str = ""  # what the caller reads through (lezen, historiek, ldes, dump, sparql): the audit operation
    log: ReadLog | None = field(default=None, compare=False, repr=False)

    @property
    def record_graphs(self) -> tuple[str, ...]:
        """Graphs holding the current state of records."""
        return (GRAPH_PUBLIC, GRAPH_RESTRICTED) if self.restricted else (GRAPH_PUBLIC,)

    @property
    def version_graphs(self) -> tuple[str, ...]:
        """Graphs holding the version members (LDES, historiek)."""
        return (GRAPH_VERSIONS_PUBLIC, GRAPH_VERSIONS_RESTRICTED) if self.restricted else (GRAPH_VERSIONS_PUBLIC,)

    @property
    def query_dataset(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(default graph, named graphs) a SPARQL query of this audience runs on: the current state and
        the code lists by default, the version history through GRAPH; FROM/GRAPH cannot widen it."""
        default = (*self.record_graphs, GRAPH_CODELISTS)
        return default, (*self.record_graphs, *self.version_graphs, GRAPH_CODELISTS)

    def read(self, iris: Sequence[str], many: bool = False, answer: bool = False, **details) -> None:
        """The store read restricted data about these IRIs for this audience and is about to hand it
        over: log it first (raises when the log cannot be written). Public reads log nothing; nor do
        the register's own reads (REGISTER: the write path, the CLI). `answer`: a query's answer, which
        is logged with the records it names even when it names none (a count over restricted data)."""
        if self.restricted and self.log is not None and (iris or answer):
            self.log(self.surface, iris, many, answer, details)


PUBLIC = Audience(False)
# The write path and the CLI run as the register itself (they must see the whole record).
REGISTER = Audience(True, "register")


def for_principal(principal: object | None, surface: str = "", log: ReadLog | None = None) -> Audience:
    """The audience of a request: restricted for an authenticated caller (with the audit hook), public otherwise."""
    if principal is None:
        return PUBLIC
    if log is None:
        raise ValueError("a restricted audience of a request needs its audit hook (app/auth/audit.audience)")
    return Audience(True, principal, surface, log)
