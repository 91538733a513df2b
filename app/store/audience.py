"""Who is reading: resolved once per request, it owns the list of graphs a read may touch.

Public code gets `PUBLIC` and has no way to name a restricted graph: store reads take an
Audience, never a graph list. A restricted audience is made from an authenticated principal.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.namespaces import GRAPH_PUBLIC, GRAPH_RESTRICTED, GRAPH_VERSIONS_PUBLIC, GRAPH_VERSIONS_RESTRICTED


@dataclass(frozen=True)
class Audience:
    restricted: bool
    principal: object | None = None

    @property
    def record_graphs(self) -> tuple[str, ...]:
        """Graphs holding the current state of records."""
        return (GRAPH_PUBLIC, GRAPH_RESTRICTED) if self.restricted else (GRAPH_PUBLIC,)

    @property
    def version_graphs(self) -> tuple[str, ...]:
        """Graphs holding the version members (LDES, historiek)."""
        return (GRAPH_VERSIONS_PUBLIC, GRAPH_VERSIONS_RESTRICTED) if self.restricted else (GRAPH_VERSIONS_PUBLIC,)


PUBLIC = Audience(False)
# The write path and the CLI run as the register itself (they must see the whole record).
REGISTER = Audience(True, "register")


def for_principal(principal: object | None) -> Audience:
    """The audience of a request: restricted for an authenticated caller, public otherwise."""
    return Audience(True, principal) if principal is not None else PUBLIC
