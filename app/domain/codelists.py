"""The register's SKOS code lists, loaded once from ontology/ and looked up by code.

Codes are matched case-insensitively everywhere (the official register mixes case-sensitive
and case-insensitive lookups; one rule is easier to explain) and normalised to their
canonical notation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import rdflib
from rdflib.namespace import SKOS

from app import paths
from app.namespaces import CONCEPT, SCHEME

# scheme name -> IRI segment of its concepts
SCHEMES = {
    "hoofdactiviteiten": "hoofdactiviteit",
    "verenigingstypes": "verenigingstype",
    "verenigingstatus": "verenigingstatus",
    "erkenningstatus": "erkenningstatus",
    "locatietypes": "locatietype",
    "contactgegeventypes": "contactgegeventype",
    "rollen": "rol",
    "werkingsgebieden": "werkingsgebied",
}


@dataclass(frozen=True)
class Concept:
    code: str
    iri: str
    label: str
    scheme: str


class CodeList:
    def __init__(self, name: str, concepts: list[Concept]) -> None:
        self.name = name
        self.iri = SCHEME + name
        self.concepts = sorted(concepts, key=lambda c: c.code)
        self._by_key = {c.code.casefold(): c for c in concepts}
        self._by_iri = {c.iri: c for c in concepts}

    def find(self, code: str) -> Concept | None:
        return self._by_key.get(code.casefold()) if isinstance(code, str) else None

    def by_iri(self, iri: str) -> Concept | None:
        return self._by_iri.get(iri)

    def __contains__(self, code: str) -> bool:
        return self.find(code) is not None


@cache
def codelist_graph() -> rdflib.Graph:
    """All concept schemes as one rdflib graph (parsed once per process)."""
    graph = rdflib.Graph()
    for path in sorted(paths.ONTOLOGY.glob("*.ttl")):
        if path.name in ("codelists.ttl", "werkingsgebieden.ttl"):
            graph.parse(path, format="turtle")
    return graph


@cache
def codelists() -> dict[str, CodeList]:
    graph = codelist_graph()
    result: dict[str, CodeList] = {}
    for name, segment in SCHEMES.items():
        scheme = rdflib.URIRef(SCHEME + name)
        concepts = []
        for concept in graph.subjects(SKOS.inScheme, scheme):
            code = str(graph.value(concept, SKOS.notation))
            label = str(graph.value(concept, SKOS.prefLabel))
            if not str(concept).startswith(CONCEPT + segment + "/"):
                raise ValueError(f"{concept} is not under the {segment} namespace")
            concepts.append(Concept(code, str(concept), label, name))
        result[name] = CodeList(name, concepts)
    return result


def get(name: str) -> CodeList:
    return codelists()[name]


def concept_by_iri(iri: str) -> Concept | None:
    for codelist in codelists().values():
        concept = codelist.by_iri(iri)
        if concept:
            return concept
    return None
