"""The half of a batch registration check that needs no store, so import worker processes can run it.

CommandHandler checks each new vereniging of a batch as register() checks one: the domain rules,
then what only the store knows (references to other verenigingen, an owner of its keys, the
duplicate gate), then SHACL over the whole batch at once. The store-free steps are here: rules,
item numbers, the RDF quads, SHACL, the confirmation token's check and the record as N-Quads text
(prebuilt.py). The handler runs them in its own thread, or takes what an import worker process
computed for the very same states (app/exchange/row_workers.py), and adds its store checks in the
same order of precedence: a rule error first, then the store's refusals, then SHACL's verdict.
SHACL verdicts are per record (each under its own root), so validating a record the store then
refuses changes no other record's verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pyoxigraph import Quad

from app.domain import duplicates, mapping, rules, versions
from app.domain.errors import DomainError, FieldError
from app.domain.parse import KINDS
from app.domain.prebuilt import Prebuilt, prebuild
from app.domain.vcode import format_vcode
from app.validation import shacl

PLACEHOLDER_BASE = 9_000_000  # placeholder V-codes V9000000 + position: validation roots, never stored


@dataclass
class Prechecked:
    """What the store-free checks found for one registration of a batch."""

    state: dict  # the state to write, items numbered
    refusal: DomainError | None = None  # by the domain rules
    token_ok: bool | None = None  # the confirmation token is this state's (None: no token given)
    problems: list[FieldError] = field(default_factory=list)  # SHACL's
    built: Prebuilt | tuple[str, list[Quad], list[Quad]] | None = None  # the record, ready to move to its V-code


Validate = Callable[[Sequence[tuple[Sequence[Quad], str]], list[Quad], str], list[list[FieldError]]]


def precheck(items: Sequence[tuple[dict, str | None, versions.Provenance]], base: str, secret: bytes,
             engine: str = "turbo", validate: Validate = shacl.check_batch) -> list[Prechecked]:
    """Rules, quads, SHACL over the batch and text for each (state, confirmation token, provenance) of a batch."""
    out: list[Prechecked] = []
    waiting = []
    for index, (state, confirmation, prov) in enumerate(items):
        entry = Prechecked(state)
        out.append(entry)
        try:
            rules.check(state)
        except DomainError as exc:
            entry.refusal = exc
            continue
        if confirmation is not None:
            entry.token_ok = confirmation == duplicates.confirmation_token(state, secret)
        for kind in KINDS:
            for number, item in enumerate(state[kind], start=1):
                item["id"] = number
        vcode = format_vcode(PLACEHOLDER_BASE + index)
        waiting.append((entry, vcode, prov, *mapping.state_to_quads(state, base, vcode)))
    records = [(public + restricted, mapping.vereniging_iri(base, vcode))
               for _, vcode, _, public, restricted in waiting]
    context = mapping.referenced_facts(q for quads, _ in records for q in quads)
    verdicts = validate(records, context, engine)
    for (entry, vcode, prov, public, restricted), problems in zip(waiting, verdicts, strict=True):
        entry.problems = problems
        if not problems:  # the quads to write, made now (outside the write lease) as text
            entry.built = prebuild(entry.state, base, vcode, public, restricted, prov) or (vcode, public, restricted)
    return out
