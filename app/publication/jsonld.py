"""JSON-LD in and out, with the register's own context (mappings/vereniging.context.jsonld).

In: a body that uses our context (by URL, or no @context at all) is already in compact form
and is read as is. Any other JSON-LD (another context, expanded form) or Turtle is compacted
to our context with pyld first, so the domain layer always sees the same keys. Remote
contexts other than ours are refused: the register makes no outbound requests.
Out: a record's triples, embedded from the root and compacted with our context.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pyoxigraph
from pyld import jsonld
from pyld.jsonld import JsonLdError

from app import paths
from app.validation.errors import CommandRejected, FieldError

CONTEXT_PATH = "/contexten/vereniging.jsonld"


@cache
def context_document() -> dict:
    return json.loads((paths.MAPPINGS / "vereniging.context.jsonld").read_text(encoding="utf-8"))


def context() -> dict:
    return context_document()["@context"]


def is_own_context(value: Any) -> bool:
    return isinstance(value, str) and (value == CONTEXT_PATH or value.endswith(CONTEXT_PATH))


def _loader(url: str, options: dict | None = None) -> dict:
    if is_own_context(url):
        return {"contextUrl": None, "documentUrl": url, "document": context_document()}
    raise JsonLdError(f"Remote context {url} is not allowed", "jsonld.LoadDocumentError",
                      code="loading remote context failed")


# JSON-LD 1.1 error codes (as pyld raises them), in Dutch; pyld's own English text is never shown.
_JSONLD_ERRORS = {
    "loading remote context failed": "een context op een ander adres wordt niet opgehaald",
    "loading document failed": "een context op een ander adres wordt niet opgehaald",
    "invalid local context": "de @context is geen object, lijst of IRI",
    "invalid remote context": "de @context is geen object, lijst of IRI",
    "invalid IRI mapping": "een term in de @context verwijst niet naar een geldige IRI",
    "invalid term definition": "een term in de @context is ongeldig gedefinieerd",
    "invalid type mapping": "een @type in de @context is ongeldig",
    "invalid @id value": "een @id is geen tekst (IRI)",
    "invalid type value": "een @type is geen tekst (IRI) of lijst daarvan",
    "invalid value object": "een waarde-object (@value) is ongeldig",
    "invalid language-tagged value": "een tekst met taal (@language) heeft geen tekst als waarde",
    "invalid language-tagged string": "een tekst met taal (@language) heeft geen tekst als waarde",
    "invalid typed value": "een waarde met @type is ongeldig",
    "invalid @reverse value": "@reverse is geen object",
    "invalid @version value": "@version moet 1.1 zijn",
    "processing mode conflict": "@version 1.1 wordt gevraagd maar niet ondersteund",
    "cyclic IRI mapping": "de @context definieert een term in een kring",
    "keyword redefinition": "de @context herdefinieert een sleutelwoord (@…)",
    "protected term redefinition": "de @context herdefinieert een beschermde term",
    "colliding keywords": "twee eigenschappen betekenen hetzelfde sleutelwoord",
}


def _jsonld_reason(exc: BaseException) -> str:
    """What was wrong, in Dutch, from the JSON-LD error code somewhere in pyld's chain of exceptions."""
    seen: BaseException | None = exc
    while seen is not None:
        code = getattr(seen, "code", None)
        if code:
            return _JSONLD_ERRORS.get(code, "de body volgt de regels van JSON-LD 1.1 niet")
        seen = seen.__cause__ or seen.__context__
    return "de body volgt de regels van JSON-LD 1.1 niet"


def _rejected(detail: str) -> CommandRejected:
    return CommandRejected(400, "ongeldige-jsonld", "Ongeldige JSON-LD", detail,
                           [FieldError("@context", "jsonld", detail)])


def normalise(doc: Any, base_iri: str = "", root_types: set[str] | None = None) -> Any:
    """Bring a JSON(-LD) body into compact form with our context."""
    if root_types and (isinstance(doc, list) and doc or isinstance(doc, dict) and "@graph" in doc):
        return graph_to_doc(doc, base_iri, root_types)
    if not isinstance(doc, dict):
        return doc
    ctx = doc.get("@context")
    expanded_form = ctx is None and any(":" in key for key in doc)
    if is_own_context(ctx) or (ctx is None and not expanded_form):
        return {k: v for k, v in doc.items() if k != "@context"}
    try:
        compacted = jsonld.compact(doc, context(), {"documentLoader": _loader})
    except (JsonLdError, ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        # pyld reports malformed input with assorted exception types; all mean "bad JSON-LD".
        raise _rejected(f"De JSON-LD kon niet verwerkt worden: {_jsonld_reason(exc)}. Enkel de context van het "
                        f"register ({CONTEXT_PATH}) of een inline context is toegelaten.") from None
    compacted.pop("@context", None)
    if "@graph" in compacted:
        raise _rejected("De body moet precies één vereniging beschrijven.")
    return _drop_blank_ids(compacted)


def _drop_blank_ids(node: Any) -> Any:
    if isinstance(node, list):
        return [_drop_blank_ids(item) for item in node]
    if isinstance(node, dict):
        return {k: _drop_blank_ids(v) for k, v in node.items()
                if not (k in ("id", "@id") and isinstance(v, str) and v.startswith("_:"))}
    return node


# What Oxigraph's Turtle parser says, in Dutch (the parser's own English text is not shown).
_TURTLE_SYNTAX = (
    (re.compile(r"The prefix (\S*) has not been declared"), "het prefix '{0}' is niet gedeclareerd (@prefix)"),
    (re.compile(r"Unexpected end of file"), "de tekst houdt onverwacht op (een niet afgesloten tekst, IRI of haakje?)"),
    (re.compile(r"Invalid IRI code point"), "een IRI (tussen < >) bevat een teken dat daar niet mag"),
    (re.compile(r"Invalid IRI|IRI"), "een ongeldige IRI"),
    (re.compile(r"dot is expected"), "hier werd een punt verwacht aan het einde van een uitspraak"),
    (re.compile(r"escape", re.IGNORECASE), "een ongeldige escape (\\) in een tekst of IRI"),
)


def _turtle_reason(engine_message: str) -> str:
    for pattern, dutch in _TURTLE_SYNTAX:
        found = pattern.search(engine_message)
        if found:
            return dutch.format(*found.groups())
    return "ongeldige Turtle-syntaxis"


def turtle_to_doc(text: str, base_iri: str, root_types: set[str]) -> dict:
    """Read a Turtle body describing one vereniging into compact JSON-LD."""
    try:
        triples = list(pyoxigraph.parse(text, pyoxigraph.RdfFormat.TURTLE, base_iri=base_iri))
    except SyntaxError as exc:
        message = f"De Turtle kon niet gelezen worden: {_turtle_reason(str(exc))} (regel {exc.lineno}, kolom " \
                  f"{exc.offset})."
        raise CommandRejected(400, "ongeldige-turtle", "Ongeldige Turtle", message,
                              [FieldError("", "turtle", message)]) from None
    if any(isinstance(term, pyoxigraph.Triple) for t in triples for term in (t.subject, t.object)):
        message = ("Een triple als term (RDF-star, << … >>) wordt niet aanvaard: beschrijf de vereniging met gewone "
                   "triples.")
        raise CommandRejected(400, "ongeldige-turtle", "Ongeldige Turtle", message, [FieldError("", "turtle", message)])
    return triples_to_doc(triples, base_iri, root_types)


def graph_to_doc(doc: Any, base_iri: str, root_types: set[str]) -> dict:
    """A JSON-LD body as a list of nodes or with "@graph" (the expanded and flattened forms that tools such
    as pyld and jsonld.js write): read as RDF, then nested from the one vereniging like a Turtle body."""
    try:
        dataset = jsonld.to_rdf(doc, {"documentLoader": _loader, "base": base_iri})
    except (JsonLdError, ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise _rejected(f"De JSON-LD kon niet verwerkt worden: {_jsonld_reason(exc)}.") from None
    if any(name != "@default" and quads for name, quads in dataset.items()):
        raise _rejected("Een vereniging wordt beschreven zonder benoemde grafen ('@graph' binnen een knoop met '@id').")
    try:
        triples = [pyoxigraph.Triple(*(_oxigraph_term(quad[part]) for part in ("subject", "predicate", "object")))
                   for quad in dataset.get("@default", [])]
    except ValueError:
        raise _rejected("De JSON-LD bevat een ongeldige IRI.") from None
    return triples_to_doc(triples, base_iri, root_types, "JSON-LD")


def _oxigraph_term(term: dict):
    if term["type"] == "IRI":
        return pyoxigraph.NamedNode(term["value"])
    if term["type"] == "blank node":
        return pyoxigraph.BlankNode(term["value"].removeprefix("_:"))
    if term.get("language"):
        return pyoxigraph.Literal(term["value"], language=term["language"])
    return pyoxigraph.Literal(term["value"], datatype=pyoxigraph.NamedNode(term["datatype"]))


def triples_to_doc(triples: list, base_iri: str, root_types: set[str], kind: str = "Turtle") -> dict:
    """The one vereniging these triples describe, nested from it and compacted with our context."""
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    roots = {str(t.subject) for t in triples if t.predicate.value == rdf_type and t.object.value in root_types}
    if not roots and kind != "Turtle":  # our JSON names no type (the endpoint says it): the node nothing points to
        objects = {str(t.object) for t in triples}
        roots = {str(t.subject) for t in triples} - objects
    if len(roots) != 1:
        code = "ongeldige-turtle" if kind == "Turtle" else "ongeldige-jsonld"
        raise CommandRejected(400, code, f"Ongeldige {kind}",
                              f"De {kind} moet precies één vereniging (fv:FeitelijkeVereniging) beschrijven.",
                              [FieldError("", kind.lower(), "Geen of meerdere verenigingen gevonden.")])
    # handed to pyld as its own dataset form, not as N-Triples text: pyld's N-Quads reader leaves escapes
    # as written, so a control character (written \u0001) became the text "\u0001" and passed the text rules
    flat = jsonld.from_rdf({"@default": [_pyld_triple(t) for t in triples]}, {"useNativeTypes": True})
    root_key = next(iter(roots))
    root_id = root_key[1:-1] if root_key.startswith("<") else root_key
    code = "ongeldige-turtle" if kind == "Turtle" else "ongeldige-jsonld"
    if not root_id.startswith("_:") and root_id != base_iri:
        message = (f"De vereniging krijgt haar IRI van het register; de {kind} beschrijft ze als <{root_id[:200]}>. "
                   "Beschrijf ze als <> of als blanco knoop.")
        raise CommandRejected(400, code, f"Ongeldige {kind}", message, [FieldError("", "alleen-lezen", message)])
    tree = embed(flat, root_id)
    unread = sorted(set(_node_ids(flat)) - set(_node_ids([tree])))
    if unread:
        named = ", ".join(f"<{node}>" if not node.startswith("_:") else "een blanco knoop" for node in unread[:3])
        message = (f"De {kind} beschrijft ook {named}{' …' if len(unread) > 3 else ''}, die niet onder de vereniging "
                   "hangt of geen blanco knoop is: dat zou niet gelezen worden. Beschrijf enkel de vereniging, met "
                   "haar onderdelen als blanco knopen ([ … ]).")
        raise CommandRejected(400, code, f"Ongeldige {kind}", message, [FieldError("", "niet-gelezen", message)])
    if tree.get("@id") in (base_iri, root_id) and not root_id.startswith("_:"):
        tree.pop("@id", None)
    compacted = jsonld.compact(tree, context(), {"documentLoader": _loader})
    compacted.pop("@context", None)
    return _drop_blank_ids(compacted)


def _node_ids(nodes: list) -> list[str]:
    """The @id of every node object with properties, nested ones included."""
    found = []
    for node in nodes:
        if isinstance(node, dict):
            if "@id" in node and len(node) > 1:
                found.append(node["@id"])
            found += _node_ids([value for key, values in node.items() if not key.startswith("@")
                                for value in (values if isinstance(values, list) else [values])])
    return found


def _pyld_term(term) -> dict:
    if isinstance(term, pyoxigraph.NamedNode):
        return {"type": "IRI", "value": term.value}
    if isinstance(term, pyoxigraph.BlankNode):
        return {"type": "blank node", "value": f"_:{term.value}"}
    found = {"type": "literal", "value": term.value, "datatype": term.datatype.value}
    if term.language:
        found["language"] = term.language
    return found


def _pyld_triple(triple) -> dict:
    return {"subject": _pyld_term(triple.subject), "predicate": _pyld_term(triple.predicate),
            "object": _pyld_term(triple.object)}


# References that are not the place where a node is described: never embed through them.
NO_EMBED = {"http://www.w3.org/ns/org#hasPrimarySite",
            "https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#isPositieIn"}
# Second paths to a node described elsewhere (the OSLO site-address path to a locatie's address):
# followed last, so the node is embedded where the record's own mapping puts it.
LATE = {"http://www.w3.org/ns/org#siteAddress"}


def embed(flat: list[dict], root: str, below: str | None = None) -> dict:
    """Nest a flattened node list into one tree from `root`.

    A node is embedded once, at its first reference, if it is a blank node or (when `below`
    is given) an IRI under that prefix; every other reference stays a plain {"@id": …}.
    """
    nodes = {node["@id"]: node for node in flat if "@id" in node}
    embedded = {root}

    def inline(node_id: str) -> dict:
        node = dict(nodes.get(node_id, {"@id": node_id}))
        for key in sorted(node, key=lambda k: (k in NO_EMBED, k in LATE)):
            if key.startswith("@"):
                continue
            out = []
            for value in node[key]:
                ref = value.get("@id") if isinstance(value, dict) and len(value) == 1 else None
                if (ref and ref in nodes and ref not in embedded and key not in NO_EMBED
                        and (ref.startswith("_:") or (below is not None and ref.startswith(below)))):
                    embedded.add(ref)
                    out.append(inline(ref))
                else:
                    out.append(value)
            node[key] = sorted(out, key=_order) if all(isinstance(v, dict) and "@id" in v for v in out) else out
        return node

    return inline(root)


def _order(node: dict) -> tuple:
    """Sub-resources in their numeric order (…/locatie/2 before …/locatie/10)."""
    head, _, tail = node["@id"].rpartition("/")
    return (head, int(tail) if tail.isdigit() else 0, tail)


def compact_record(quads: list[pyoxigraph.Quad], root: str, context_url: str) -> dict:
    """The record as compact JSON-LD with our context, embedded from its root IRI."""
    triples = [pyoxigraph.Triple(q.subject, q.predicate, q.object) for q in quads]
    # handed to pyld as its own dataset form, not as N-Triples text: pyld's N-Quads reader leaves escapes
    # as written, so a control character (written \u0001) became the text "\u0001" and passed the text rules
    flat = jsonld.from_rdf({"@default": [_pyld_triple(t) for t in triples]}, {"useNativeTypes": True})
    tree = embed(flat, root, below=root + "/")
    compacted = jsonld.compact(tree, context(), {"documentLoader": _loader})
    compacted["@context"] = context_url
    return compacted


REFERENCE_KEYS = ("andereVereniging",)


def local_references(doc: Any, base: str, path: str = "") -> Any:
    """References to other verenigingen become V-codes; one to another register is refused.

    A body may name the other vereniging by V-code or by its IRI (JSON-LD and Turtle bodies do);
    only IRIs of this register (`{base}/id/vereniging/…`, or that path alone) are accepted.
    """
    if isinstance(doc, list):
        return [local_references(item, base, f"{path}[{index}]") for index, item in enumerate(doc)]
    if not isinstance(doc, dict):
        return doc
    result = {}
    for key, value in doc.items():
        where = f"{path}.{key}" if path else key
        if key in REFERENCE_KEYS and isinstance(value, str) and ("/" in value or ":" in value):
            value = _local_vcode(value, base, where)
        result[key] = local_references(value, base, where)
    return result


def _local_vcode(value: str, base: str, path: str) -> str:
    for prefix in (base.rstrip("/") + "/id/vereniging/", "/id/vereniging/"):
        if value.startswith(prefix):
            return value[len(prefix):]
    detail = (f"'{path}' verwijst naar een vereniging buiten dit register ({value[:200]}); gebruik de V-code of "
              f"een IRI van de vorm {base.rstrip('/')}/id/vereniging/V0000000.")
    raise CommandRejected(400, "andere-register", "Ongeldige verwijzing", detail, [FieldError(path, "andere-register",
                                                                                              detail)])


def compact_nodes(triples: list[pyoxigraph.Triple]) -> list[dict]:
    """Nodes outside the record (e.g. the concepts it references), compacted with our context."""
    # handed to pyld as its own dataset form, not as N-Triples text: pyld's N-Quads reader leaves escapes
    # as written, so a control character (written \u0001) became the text "\u0001" and passed the text rules
    flat = jsonld.from_rdf({"@default": [_pyld_triple(t) for t in triples]}, {"useNativeTypes": True})
    compacted = jsonld.compact({"@graph": flat}, context(), {"documentLoader": _loader})
    compacted.pop("@context", None)
    return compacted.get("@graph", [compacted])
