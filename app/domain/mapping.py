"""The RDF form of a vereniging: state → quads (public and restricted) and back.

The store holds RDF only; this module is the single place that knows which triples a state
produces and in which graph they belong. Personal data (vertegenwoordigers, einddatum) is
routed to the restricted graph here, by construction, so no publication code has to filter.
Every node gets an IRI under the vereniging's IRI (no blank nodes), which keeps updates
expressible as SPARQL DELETE DATA / INSERT DATA in one transaction.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable

from pyoxigraph import Literal, NamedNode, Quad

from app.domain import codelists, model, oslo, places
from app.namespaces import (
    ADMS,
    CONCEPT,
    DCTERMS,
    FOAF,
    FV,
    GENERIEK,
    GRAPH_PUBLIC,
    GRAPH_RESTRICTED,
    LOCN,
    M8G,
    ORG,
    RDF,
    REGORG,
    SCHEMA,
    SKOS,
    VRX,
    XSD,
)

A = NamedNode(RDF + "type")
G_PUB = NamedNode(GRAPH_PUBLIC)
G_RES = NamedNode(GRAPH_RESTRICTED)


def n(iri: str) -> NamedNode:
    return NamedNode(iri)


def vereniging_iri(base: str, vcode: str) -> str:
    return f"{base}/id/vereniging/{vcode}"


def concept(segment: str, code: str) -> NamedNode:
    return NamedNode(f"{CONCEPT}{segment}/{code}")


def _nl(text: str) -> Literal:
    return Literal(text, language="nl")


def _typed(value: str, datatype: str) -> Literal:
    return Literal(value, datatype=NamedNode(XSD + datatype))


def _bool(value: bool) -> Literal:
    return _typed("true" if value else "false", "boolean")


def _int(value: int) -> Literal:
    return _typed(str(value), "integer")


CONTACT_PREDICATES = {
    "E-mail": (SCHEMA + "email", False),
    "Telefoon": (SCHEMA + "telephone", False),
    "Website": (FOAF + "page", True),
    "SocialMedia": (VRX + "socialMedia", True),
}
OVO_BASE = "https://data.vlaanderen.be/id/organisatie/"


def adresvoorstelling(adres: dict) -> str:
    """'straat nr[ bus X], postcode gemeente, land' as the official register shows it."""
    street = f"{adres['straatnaam']} {adres['huisnummer']}"
    if adres.get("busnummer"):
        street += f" bus {adres['busnummer']}"
    return f"{street}, {adres['postcode']} {adres['gemeente']}, {adres['land']}"


# -- state → RDF, driven by the description (model.py) ----------------------------------------------
Emit = Callable[[NamedNode, str, object], None]


def _term(f: model.Field, value, base: str):
    """The RDF term of one value of field `f`."""
    kind = f.datatype
    if kind == model.TEXT_NL:
        return _nl(value)
    if kind in (model.DATE, model.DATETIME):
        return _typed(value, kind)
    if kind == model.DAY:
        return _typed(value + "T00:00:00", "dateTime")
    if kind == model.BOOLEAN:
        return _bool(value)
    if kind == model.INTEGER:
        return _int(value)
    if kind == model.CODE:
        return concept(codelists.SCHEMES[f.codelist], value)
    if kind == model.IRI:
        return n(value)
    if kind == model.VCODE:
        return n(vereniging_iri(base, value))
    if kind == model.OVO:
        return n(OVO_BASE + value)
    return Literal(value)


def _present(value) -> bool:
    return value is not None and value != "" and value != []


def write_fields(emit: Emit, subject: NamedNode, fields: tuple[model.Field, ...], values: dict, base: str) -> None:
    """The triples of `values` on `subject`, field by field (nested objects and periods get their own node)."""
    nodes: dict[str, NamedNode] = {}
    for f in fields:
        value = values.get(f.key)
        if value is None and f.default is not None and not f.many:
            value = f.default  # a flag with a default (isErkend, inStopzetting) is always stated
        if f.derived or not (_present(value) or f.always):
            continue
        target = subject
        if f.via is not None:
            target = nodes.get(f.via.segment) or _node(emit, subject, f.via)
            nodes[f.via.segment] = target
        if f.datatype == model.OBJECT:
            defaults = {sub.key: sub.default for sub in f.fields}
            for one in value if f.many else [value]:
                node = _node(emit, subject, f.node, one.get(f.key_field) if f.many else None)
                write_fields(emit, node, f.fields, {**defaults, **(one or {})}, base)
        else:
            for one in value if f.many else [value]:
                emit(target, f.iri, _term(f, one, base))


def _node(emit: Emit, subject: NamedNode, node: model.Node, key: str | None = None) -> NamedNode:
    """The node `{subject}/{segment}` (`…/{segment}/{key}` for one of many) with its link and types."""
    target = n(f"{subject.value}/{node.segment}" + (f"/{key}" if key is not None else ""))
    emit(subject, model.iri(node.predicate), target)
    for cls in node.types:
        emit(target, RDF + "type", n(model.iri(cls)))
    return target


def state_to_quads(state: dict, base: str, vcode: str,
                   description: model.Model = model.MODEL) -> tuple[list[Quad], list[Quad]]:
    """Public and restricted quads for one vereniging state (what SHACL validates).

    Restricted fields and parts go to the restricted graph by construction.
    """
    vc = n(vereniging_iri(base, vcode))
    pub: list[Quad] = []
    res: list[Quad] = []

    def public(s: NamedNode, pred: str, o) -> None:
        pub.append(Quad(s, n(pred), o, G_PUB))

    def restricted(s: NamedNode, pred: str, o) -> None:
        res.append(Quad(s, n(pred), o, G_RES))

    for cls in description.root_types:
        public(vc, RDF + "type", n(model.iri(cls)))
    for f in description.fields:
        write_fields(restricted if f.restricted else public, vc, (f,), state, base)
    for part in description.parts:
        emit = restricted if part.restricted else public
        for item in state.get(part.kind, []):
            node = n(f"{vc.value}/{part.segment}/{item['id']}")
            emit(vc, model.iri(part.link), node)
            for cls in part.types:
                emit(node, RDF + "type", n(model.iri(cls)))
            write_fields(emit, node, part.fields, item, base)
            for hook in ITEM_FACTS.get(part.kind, ()):
                hook(emit, vc, node, item)
    _vereniging_facts(public, restricted, vc, state, base, vcode)
    return oslo.complete(pub), oslo.complete(res)


def with_vcode(quads: list[Quad], base: str, old: str, new: str) -> list[Quad]:
    """The quads state_to_quads made for V-code `old`, as it makes them for `new`.

    A registration's quads are built (and validated) before the store hands out its V-code; this
    moves them instead of building them again. The V-code appears in the record's IRIs and as the
    literal of its own identifiers, nowhere else (tests/test_mapping.py compares with a rebuild).
    """
    old_iri, new_iri = vereniging_iri(base, old), vereniging_iri(base, new)
    cut = len(old_iri)
    own = {new_iri, f"{new_iri}/identificator/vcode", f"{new_iri}/identificator/vcode/gestructureerd"}

    def iri(term):
        if type(term) is NamedNode:  # noqa: E721  (one property read per term: each makes a new str)
            value = term.value
            if value.startswith(old_iri) and value[cut:cut + 1] in ("", "/"):
                return NamedNode(new_iri + value[cut:])
        return term

    moved = []
    for q in quads:
        subject, obj = iri(q.subject), iri(q.object)
        if isinstance(obj, Literal) and obj.value == old and q.predicate.value in _VCODE_LITERALS \
                and subject.value in own:
            obj = Literal(new, datatype=obj.datatype)
        moved.append(Quad(subject, q.predicate, obj, q.graph_name))
    return moved


# -- what a description cannot say: facts computed from the state -------------------------------------
def _vereniging_facts(public: Emit, restricted: Emit, vc: NamedNode, state: dict, base: str, vcode: str) -> None:
    kbo_type = state["verenigingstype"] in model.KBO_TYPES
    public(vc, RDF + "type", n(REGORG + "RegisteredOrganization" if kbo_type else FV + "FeitelijkeVereniging"))
    public(vc, DCTERMS + "identifier", Literal(vcode))
    _identifiers(public, vc, state, base, vcode)
    if state.get("startdatum"):
        founding = n(f"{vc.value}/oprichting")
        public(vc, ORG + "resultedFrom", founding)
        public(founding, RDF + "type", n(M8G + "FoundationEvent"))
        public(founding, DCTERMS + "date", _typed(state["startdatum"] + "T00:00:00", "dateTime"))
    if state.get("bankrekeningnummers"):
        restricted(vc, FV + "bankrekeningnummer", Literal(state["bankrekeningnummers"][0]["iban"].replace(" ", "")))


def _identifiers(p: Emit, vc: NamedNode, state: dict, base: str, vcode: str) -> None:
    """The V-code, the KBO number and a bestuur's own keys as adms:Identifier nodes."""
    vc_iri = vc.value
    if state.get("kboNummer"):
        kbo = n(f"{vc_iri}/identificator/kbo")
        p(vc, ADMS + "identifier", kbo)
        p(vc, REGORG + "registration", kbo)
        p(vc, REGORG + "legalName", _nl(state["naam"]))
        p(kbo, RDF + "type", n(ADMS + "Identifier"))
        p(kbo, SKOS + "notation", Literal(state["kboNummer"]))
        p(kbo, ADMS + "schemaAgency", Literal("Kruispuntbank van Ondernemingen"))
    for sleutel in state.get("sleutels", []):
        node = n(f"{vc_iri}/identificator/{sleutel_segment(sleutel)}")
        p(vc, ADMS + "identifier", node)
        p(node, RDF + "type", n(ADMS + "Identifier"))
        p(node, SKOS + "notation", Literal(sleutel["waarde"]))
        p(node, DCTERMS + "creator", n(OVO_BASE + sleutel["bron"]))
        p(node, ADMS + "schemaAgency", Literal(f"Eigen sleutel van {sleutel['bron']}"))
    ident = n(f"{vc_iri}/identificator/vcode")
    p(vc, ADMS + "identifier", ident)
    p(ident, RDF + "type", n(ADMS + "Identifier"))
    p(ident, SKOS + "notation", Literal(vcode))
    p(ident, ADMS + "schemaAgency", Literal("Verenigingsregister"))
    structured = n(f"{vc_iri}/identificator/vcode/gestructureerd")
    p(ident, GENERIEK + "gestructureerdeIdentificator", structured)
    p(structured, RDF + "type", n(GENERIEK + "GestructureerdeIdentificator"))
    p(structured, GENERIEK + "naamruimte", Literal(f"{base}/id/vereniging/"))
    p(structured, GENERIEK + "lokaleIdentificator", Literal(vcode))


_VCODE_LITERALS = {DCTERMS + "identifier", SKOS + "notation", GENERIEK + "lokaleIdentificator"}


def _primary_site(emit: Emit, vc: NamedNode, node: NamedNode, item: dict) -> None:
    if item["isPrimair"]:
        emit(vc, ORG + "hasPrimarySite", node)


def _full_address(emit: Emit, vc: NamedNode, node: NamedNode, item: dict) -> None:
    """The address as one text, and the gemeente its postcode lies in as a concept (the text says what the
    vereniging wrote, e.g. the deelgemeente 'Sint-Amandsberg'; `vrx:gemeente` says Gent, as the statistics
    and search count it)."""
    if item.get("adres"):
        address = n(node.value + "/adres")
        emit(address, LOCN + "fullAddress", _nl(adresvoorstelling(item["adres"])))
        gemeente = places.postcode_table().get(item["adres"].get("postcode"))
        if gemeente:
            emit(address, VRX + "gemeente", concept("werkingsgebied", gemeente))


def _contact_channel(emit: Emit, vc: NamedNode, node: NamedNode, item: dict) -> None:
    """The value again under the predicate of its type (schema:email, foaf:page, …)."""
    predicate, is_iri = CONTACT_PREDICATES[item["contactgegeventype"]]
    emit(node, predicate, n(item["waarde"]) if is_iri else Literal(item["waarde"]))


def _position_in(emit: Emit, vc: NamedNode, node: NamedNode, item: dict) -> None:
    emit(node, FV + "isPositieIn", vc)


def _member(emit: Emit, vc: NamedNode, node: NamedNode, item: dict) -> None:
    emit(node, ORG + "member", vc)


def _ipdc_product(emit: Emit, vc: NamedNode, node: NamedNode, item: dict) -> None:
    emit(node, DCTERMS + "type", concept("ipdcproduct", item["ipdcProductNummer"]))


ITEM_FACTS: dict[str, tuple[Callable[[Emit, NamedNode, NamedNode, dict], None], ...]] = {
    "locaties": (_primary_site, _full_address),
    "contactgegevens": (_contact_channel,),
    "vertegenwoordigers": (_position_in,),
    "lidmaatschappen": (_member,),
    "erkenningen": (_ipdc_product,),
}


def sleutel_segment(sleutel: dict) -> str:
    """IRI-safe, stable segment for a bestuur's own key."""
    digest = hashlib.sha256(f"{sleutel['bron']}\n{sleutel['waarde']}".encode()).hexdigest()[:16]
    return f"{sleutel['bron']}-{digest}"


def metadata_quads(vc_iri: str, created: str, modified: str) -> list[Quad]:
    """What the register adds at commit time: when the record was created and last changed."""
    vc = n(vc_iri)
    return [Quad(vc, n(DCTERMS + "created"), _typed(created, "dateTime"), G_PUB),
            Quad(vc, n(DCTERMS + "modified"), _typed(modified, "dateTime"), G_PUB)]


# -- back from RDF --------------------------------------------------------------------------

class Record:
    """The triples of one vereniging, indexed subject → predicate → objects."""

    def __init__(self, quads: Iterable[Quad]) -> None:
        self.index: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for quad in quads:
            self.index[quad.subject.value][quad.predicate.value].append(quad.object)

    def all(self, subject: str, predicate: str) -> list:
        return self.index.get(subject, {}).get(predicate, [])

    def one(self, subject: str, predicate: str) -> str | None:
        values = self.all(subject, predicate)
        return values[0].value if values else None

    def iris(self, subject: str, predicate: str) -> list[str]:
        return sorted((o.value for o in self.all(subject, predicate)), key=_natural)


def _natural(iri: str) -> tuple:
    head, _, tail = iri.rpartition("/")
    return (head, int(tail)) if tail.isdigit() else (iri, 0)


def _code(iri: str | None) -> str | None:
    if iri is None:
        return None
    found = codelists.concept_by_iri(iri)
    return found.code if found else iri.rsplit("/", 1)[-1]


def _value(f: model.Field, term) -> object:
    """One RDF term back to the state's value of field `f`."""
    kind, text = f.datatype, term.value
    if kind == model.DAY:
        return text[:10]
    if kind == model.BOOLEAN:
        return text == "true"
    if kind == model.INTEGER:
        return int(text)
    if kind == model.CODE:
        return _code(text)
    if kind in (model.VCODE, model.OVO):
        return text.rsplit("/", 1)[-1]
    return text


def read_fields(rec: Record, subject: str, fields: tuple[model.Field, ...], *, nested: bool = False) -> dict:
    """The state values of `fields` on `subject`. Absent: None (lists: []), booleans False; nested objects
    and `omit_absent` fields (bron) leave absent keys out, as their parsed form does."""
    values: dict = {}
    for f in fields:
        if f.derived:
            continue
        holder = subject
        if f.via is not None:
            holder = rec.one(subject, model.iri(f.via.predicate))
        found = rec.all(holder, f.iri) if holder else []
        if f.datatype == model.OBJECT and f.many:
            value = [read_fields(rec, node, f.fields, nested=True) for node in sorted(o.value for o in found)]
        elif f.datatype == model.OBJECT:
            node = found[0].value if found else None
            defaults = {sub.key: sub.default for sub in f.fields if sub.default is not None}
            value = ({**defaults, **read_fields(rec, node, f.fields, nested=True)} if node
                     else (defaults or None) if f.always else None)
        elif f.many:
            value = [_value(f, o) for o in found]
            if f.datatype != model.CODE:
                value.sort()
        elif found:
            value = _value(f, found[0])
        else:
            value = f.default if f.default is not None else False if f.datatype == model.BOOLEAN else None
        if value is None and (nested or f.omit_absent):
            continue
        values[f.key] = value
    return values


def quads_to_state(quads: Iterable[Quad], vc_iri: str, description: model.Model = model.MODEL) -> dict:
    """Rebuild the state dict from the vereniging's public + restricted quads."""
    rec = Record(quads)
    state = read_fields(rec, vc_iri, description.fields)
    state["kboNummer"] = rec.one(f"{vc_iri}/identificator/kbo", SKOS + "notation")
    state["sleutels"] = _sleutels(rec, vc_iri)
    for part in description.parts:
        state[part.kind] = [{"id": int(node.rsplit("/", 1)[1]), **read_fields(rec, node, part.fields)}
                            for node in rec.iris(vc_iri, model.iri(part.link))]
    return state


def _sleutels(rec: Record, vc_iri: str) -> list[dict]:
    """A bestuur's own keys: the identifiers that name their creator organisation."""
    found = []
    for ident in rec.iris(vc_iri, ADMS + "identifier"):
        creator = rec.one(ident, DCTERMS + "creator")
        if creator:
            found.append({"bron": creator.rsplit("/", 1)[-1], "waarde": rec.one(ident, SKOS + "notation")})
    return sorted(found, key=lambda k: (k["bron"], k["waarde"]))


def referenced_facts(quads: Iterable[Quad]) -> list[Quad]:
    """Facts outside the record that SHACL needs: scheme membership of referenced werkingsgebieden."""
    prefix = CONCEPT + "werkingsgebied/"
    scheme = n(codelists.get("werkingsgebieden").iri)
    in_scheme = n(SKOS + "inScheme")
    facts = []
    for iri in {q.object.value for q in quads if isinstance(q.object, NamedNode) and q.object.value.startswith(prefix)}:
        if codelists.get("werkingsgebieden").by_iri(iri):
            facts.append(Quad(n(iri), in_scheme, scheme, G_PUB))
    return facts
