"""The validation gate before any commit: domain rules, references to other verenigingen, SHACL."""

from __future__ import annotations

import copy

from pyoxigraph import Quad

from app.domain import mapping, rules
from app.domain.errors import DomainError, FieldError, invalid
from app.domain.parse import KINDS
from app.domain.records import Records
from app.domain.vcode import format_vcode
from app.validation.shacl import ShaclPool

SHACL_DETAIL = "De vereniging voldoet niet aan de SHACL-vormen van het register."
PLACEHOLDER_VCODE = "V0000000"  # validation before the store hands out the V-code


class ValidationGate:
    """Checks a state against the rules and the SHACL shapes; raises a DomainError, never writes."""

    def __init__(self, records: Records, validator: ShaclPool) -> None:
        self.records = records
        self.validator = validator

    def check(self, state: dict) -> None:
        """Everything registration checks except duplicates, without writing (import dry runs)."""
        rules.check(state)
        self.check_references(state, None)
        trial = copy.deepcopy(state)
        for kind in KINDS:
            for index, item in enumerate(trial[kind], start=1):
                item["id"] = index
        public, restricted = mapping.state_to_quads(trial, self.records.base, PLACEHOLDER_VCODE)
        self.validate(public + restricted, self.records.iri(PLACEHOLDER_VCODE))

    def check_batch(self, states: list[dict], engine: str = "turbo") -> list[list[FieldError]]:
        """What check() finds for each state (duplicates aside), validating all of them in one SHACL run."""
        errors: list[list[FieldError]] = [[] for _ in states]
        records, positions = [], []
        for index, state in enumerate(states):
            try:
                rules.check(state)
                self.check_references(state, None)
            except DomainError as exc:
                errors[index] = exc.errors or [FieldError("", exc.slug, exc.detail)]
                continue
            trial = copy.deepcopy(state)
            for kind in KINDS:
                for number, item in enumerate(trial[kind], start=1):
                    item["id"] = number
            vcode = format_vcode(9_000_000 + index)  # placeholder roots, never stored
            public, restricted = mapping.state_to_quads(trial, self.records.base, vcode)
            records.append((public + restricted, self.records.iri(vcode)))
            positions.append(index)
        context = mapping.referenced_facts(q for quads, _ in records for q in quads)
        for index, found in zip(positions, self.validator.check_batch(records, context, engine), strict=True):
            errors[index] = found
        return errors

    def check_references(self, state: dict, vcode: str | None) -> None:
        """Lidmaatschappen must point to another existing, not removed vereniging."""
        errors = []
        for index, item in enumerate(state["lidmaatschappen"]):
            other = item["andereVereniging"]
            path = f"lidmaatschappen[{index}].andereVereniging"
            if other == vcode:
                errors.append((path, "zichzelf", "Een vereniging kan geen lid zijn van zichzelf."))
            elif self.records.version_of(other) is None or self.records.is_removed(other):
                errors.append((path, "onbekend", f"Vereniging '{other}' is niet gekend of werd verwijderd."))
        if errors:
            raise invalid([FieldError(*e) for e in errors])

    def validate(self, record: list[Quad], vc_iri: str) -> None:
        problems = self.validator.check(record, vc_iri, mapping.referenced_facts(record))
        if problems:
            raise invalid(problems, SHACL_DETAIL)
