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
from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode, Quad

from app.domain import codelists, oslo
from app.namespaces import (
    ADMS,
    ADRES,
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
    ORGANISATIE,
    PERSOON,
    RDF,
    RDFS,
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
KBO_TYPES = {"VZW", "IVZW", "PS", "SVON"}
OVO_BASE = "https://data.vlaanderen.be/id/organisatie/"


def adresvoorstelling(adres: dict) -> str:
    """'straat nr[ bus X], postcode gemeente, land' as the official register shows it."""
    street = f"{adres['straatnaam']} {adres['huisnummer']}"
    if adres.get("busnummer"):
        street += f" bus {adres['busnummer']}"
    return f"{street}, {adres['postcode']} {adres['gemeente']}, {adres['land']}"


def state_to_quads(state: dict, base: str, vcode: str) -> tuple[list[Quad], list[Quad]]:
    """Public and restricted quads for one vereniging state (what SHACL validates)."""
    vc_iri = vereniging_iri(base, vcode)
    vc = n(vc_iri)
    pub: list[Quad] = []
    res: list[Quad] = []

    def p(s: NamedNode, pred: str, o) -> None:
        pub.append(Quad(s, n(pred), o, G_PUB))

    def r(s: NamedNode, pred: str, o) -> None:
        res.append(Quad(s, n(pred), o, G_RES))

    kind = state["verenigingstype"]
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
    for cls in (FV + "Vereniging", ORG + "Organization"):
        p(vc, RDF + "type", n(cls))
    p(vc, RDF + "type", n(REGORG + "RegisteredOrganization" if kind in KBO_TYPES else FV + "FeitelijkeVereniging"))
    p(vc, DCTERMS + "identifier", Literal(vcode))
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

    p(vc, ORG + "classification", concept("verenigingstype", kind))
    p(vc, REGORG + "orgStatus", concept("verenigingstatus", state["status"]))
    p(vc, SKOS + "prefLabel", _nl(state["naam"]))
    if state.get("korteNaam"):
        p(vc, SKOS + "altLabel", _nl(state["korteNaam"]))
    if state.get("korteBeschrijving"):
        p(vc, DCTERMS + "description", _nl(state["korteBeschrijving"]))
    if state.get("startdatum"):
        p(vc, SCHEMA + "foundingDate", _typed(state["startdatum"], "date"))
        founding = n(f"{vc_iri}/oprichting")
        p(vc, ORG + "resultedFrom", founding)
        p(founding, RDF + "type", n(M8G + "FoundationEvent"))
        p(founding, DCTERMS + "date", _typed(state["startdatum"] + "T00:00:00", "dateTime"))
    if state.get("einddatum"):
        r(vc, SCHEMA + "dissolutionDate", _typed(state["einddatum"], "date"))
    audience = n(f"{vc_iri}/doelgroep")
    p(vc, SCHEMA + "audience", audience)
    p(audience, RDF + "type", n(SCHEMA + "PeopleAudience"))
    p(audience, SCHEMA + "suggestedMinAge", _int(state["doelgroep"]["minimumleeftijd"]))
    p(audience, SCHEMA + "suggestedMaxAge", _int(state["doelgroep"]["maximumleeftijd"]))
    for code in state["hoofdactiviteiten"]:
        p(vc, REGORG + "orgActivity", concept("hoofdactiviteit", code))
    for code in state["werkingsgebieden"]:
        p(vc, DCTERMS + "spatial", concept("werkingsgebied", code))

    for loc in state["locaties"]:
        site = n(f"{vc_iri}/locatie/{loc['id']}")
        p(vc, ORG + "hasSite", site)
        if loc["isPrimair"]:
            p(vc, ORG + "hasPrimarySite", site)
        p(site, RDF + "type", n(ORG + "Site"))
        p(site, DCTERMS + "type", concept("locatietype", loc["locatietype"]))
        p(site, VRX + "isPrimair", _bool(loc["isPrimair"]))
        if loc.get("bron"):
            p(site, VRX + "bron", Literal(loc["bron"]))
        if loc.get("naam"):
            p(site, RDFS + "label", _nl(loc["naam"]))
        if loc.get("adresId"):
            p(site, ADRES + "verwijstNaar", n(loc["adresId"]))
        if loc.get("adres"):
            adres = loc["adres"]
            node = n(f"{vc_iri}/locatie/{loc['id']}/adres")
            p(site, LOCN + "address", node)
            p(node, RDF + "type", n(LOCN + "Address"))
            p(node, LOCN + "thoroughfare", _nl(adres["straatnaam"]))
            p(node, ADRES + "Adresvoorstelling.huisnummer", Literal(adres["huisnummer"]))
            if adres.get("busnummer"):
                p(node, ADRES + "Adresvoorstelling.busnummer", Literal(adres["busnummer"]))
            p(node, LOCN + "postCode", Literal(adres["postcode"]))
            p(node, ADRES + "gemeentenaam", _nl(adres["gemeente"]))
            p(node, ADRES + "land", _nl(adres["land"]))
            p(node, LOCN + "fullAddress", _nl(adresvoorstelling(adres)))

    for item in state["contactgegevens"]:
        cp = n(f"{vc_iri}/contactgegeven/{item['id']}")
        p(vc, SCHEMA + "contactPoint", cp)
        p(cp, RDF + "type", n(SCHEMA + "ContactPoint"))
        p(cp, SCHEMA + "contactType", concept("contactgegeventype", item["contactgegeventype"]))
        p(cp, RDF + "value", Literal(item["waarde"]))
        predicate, is_iri = CONTACT_PREDICATES[item["contactgegeventype"]]
        p(cp, predicate, n(item["waarde"]) if is_iri else Literal(item["waarde"]))
        if item.get("beschrijving"):
            p(cp, DCTERMS + "description", Literal(item["beschrijving"]))
        p(cp, VRX + "isPrimair", _bool(item["isPrimair"]))
        if item.get("bron"):
            p(cp, VRX + "bron", Literal(item["bron"]))

    for item in state["vertegenwoordigers"]:
        agent = n(f"{vc_iri}/vertegenwoordiger/{item['id']}")
        r(vc, FV + "heeftVertegenwoordiger", agent)
        r(agent, RDF + "type", n(ORGANISATIE + "Hoedanigheid"))
        r(agent, RDF + "type", n(DCTERMS + "Agent"))
        r(agent, FV + "isPositieIn", vc)
        r(agent, VRX + "insz", Literal(item["insz"]))
        r(agent, FOAF + "givenName", Literal(item["voornaam"]))
        r(agent, FOAF + "familyName", Literal(item["achternaam"]))
        r(agent, VRX + "isPrimair", _bool(item["isPrimair"]))
        for key, predicate, is_iri in (
            ("roepnaam", PERSOON + "gebruikteVoornaam", False), ("rol", VRX + "rol", False),
            ("email", SCHEMA + "email", False), ("telefoon", SCHEMA + "telephone", False),
            ("mobiel", VRX + "mobiel", False), ("socialMedia", VRX + "socialMedia", True),
        ):
            if item.get(key):
                r(agent, predicate, n(item[key]) if is_iri else Literal(item[key]))

    for item in state["lidmaatschappen"]:
        membership = n(f"{vc_iri}/lidmaatschap/{item['id']}")
        p(vc, ORG + "hasMembership", membership)
        p(membership, RDF + "type", n(ORG + "Membership"))
        p(membership, ORG + "member", vc)
        p(membership, ORG + "organization", n(vereniging_iri(base, item["andereVereniging"])))
        _period(p, membership, ORG + "memberDuring", item["van"], item["tot"])
        if item.get("identificatie"):
            p(membership, DCTERMS + "identifier", Literal(item["identificatie"]))
        if item.get("beschrijving"):
            p(membership, DCTERMS + "description", Literal(item["beschrijving"]))

    for item in state["erkenningen"]:
        erkenning = n(f"{vc_iri}/erkenning/{item['id']}")
        p(vc, FV + "heeftErkenning", erkenning)
        p(erkenning, RDF + "type", n(FV + "Erkenning"))
        p(erkenning, DCTERMS + "type", concept("ipdcproduct", item["ipdcProductNummer"]))
        p(erkenning, VRX + "ipdcProductNummer", Literal(item["ipdcProductNummer"]))
        if item.get("ipdcProductNaam"):
            p(erkenning, DCTERMS + "title", _nl(item["ipdcProductNaam"]))
        p(erkenning, FV + "toegekenddoor", n(OVO_BASE + item["geregistreerdDoor"]))
        _period(p, erkenning, FV + "geldigheidsperiode", item["startdatum"], item["einddatum"])
        if item.get("hernieuwingsdatum"):
            p(erkenning, VRX + "hernieuwingsdatum", _typed(item["hernieuwingsdatum"], "date"))
        if item.get("hernieuwingsUrl"):
            p(erkenning, FOAF + "page", n(item["hernieuwingsUrl"]))

    for item in state["bankrekeningnummers"]:
        account = n(f"{vc_iri}/bankrekeningnummer/{item['id']}")
        r(vc, VRX + "bankrekening", account)
        r(account, RDF + "type", n(SCHEMA + "BankAccount"))
        r(account, SCHEMA + "identifier", Literal(item["iban"]))
        if item.get("doel"):
            r(account, DCTERMS + "description", Literal(item["doel"]))
        for holder in item["titularissen"]:
            r(account, VRX + "titularis", Literal(holder))
    if state["bankrekeningnummers"]:
        r(vc, FV + "bankrekeningnummer", Literal(state["bankrekeningnummers"][0]["iban"].replace(" ", "")))
    return oslo.complete(pub), oslo.complete(res)


def _period(add, subject: NamedNode, predicate: str, start: str | None, end: str | None) -> None:
    """An m8g:PeriodOfTime; dates are stored as the start of the day (the AP's range is xsd:dateTime)."""
    if not start and not end:
        return
    period = n(subject.value + "/periode")
    add(subject, predicate, period)
    add(period, RDF + "type", n(M8G + "PeriodOfTime"))
    if start:
        add(period, M8G + "startTime", _typed(start + "T00:00:00", "dateTime"))
    if end:
        add(period, M8G + "endTime", _typed(end + "T00:00:00", "dateTime"))


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


def _flag(value: str | None) -> bool:
    return value == "true"


def quads_to_state(quads: Iterable[Quad], vc_iri: str) -> dict:
    """Rebuild the state dict from the vereniging's public + restricted quads."""
    rec = Record(quads)
    audience = rec.one(vc_iri, SCHEMA + "audience")
    state = {
        "verenigingstype": _code(rec.one(vc_iri, ORG + "classification")),
        "status": _code(rec.one(vc_iri, REGORG + "orgStatus")),
        "naam": rec.one(vc_iri, SKOS + "prefLabel"),
        "korteNaam": rec.one(vc_iri, SKOS + "altLabel"),
        "korteBeschrijving": rec.one(vc_iri, DCTERMS + "description"),
        "startdatum": rec.one(vc_iri, SCHEMA + "foundingDate"),
        "einddatum": rec.one(vc_iri, SCHEMA + "dissolutionDate"),
        "doelgroep": {
            "minimumleeftijd": int(rec.one(audience, SCHEMA + "suggestedMinAge") or 0),
            "maximumleeftijd": int(rec.one(audience, SCHEMA + "suggestedMaxAge") or 150),
        },
        "hoofdactiviteiten": [_code(o.value) for o in rec.all(vc_iri, REGORG + "orgActivity")],
        "werkingsgebieden": [_code(o.value) for o in rec.all(vc_iri, DCTERMS + "spatial")],
        "kboNummer": rec.one(f"{vc_iri}/identificator/kbo", SKOS + "notation"),
        "sleutels": _sleutels(rec, vc_iri),
        "locaties": [],
        "contactgegevens": [],
        "vertegenwoordigers": [],
        "lidmaatschappen": [],
        "erkenningen": [],
        "bankrekeningnummers": [],
    }
    for site in rec.iris(vc_iri, ORG + "hasSite"):
        node = rec.one(site, LOCN + "address")
        adres = None
        if node:
            adres = {
                "straatnaam": rec.one(node, LOCN + "thoroughfare"),
                "huisnummer": rec.one(node, ADRES + "Adresvoorstelling.huisnummer"),
                "postcode": rec.one(node, LOCN + "postCode"),
                "gemeente": rec.one(node, ADRES + "gemeentenaam"),
                "land": rec.one(node, ADRES + "land"),
            }
            bus = rec.one(node, ADRES + "Adresvoorstelling.busnummer")
            if bus:
                adres["busnummer"] = bus
        state["locaties"].append({
            "id": int(site.rsplit("/", 1)[1]),
            "locatietype": _code(rec.one(site, DCTERMS + "type")),
            "isPrimair": _flag(rec.one(site, VRX + "isPrimair")),
            **_bron(rec, site),
            "naam": rec.one(site, RDFS + "label"),
            "adres": adres,
            "adresId": rec.one(site, ADRES + "verwijstNaar"),
        })
    for cp in rec.iris(vc_iri, SCHEMA + "contactPoint"):
        state["contactgegevens"].append({
            "id": int(cp.rsplit("/", 1)[1]),
            "contactgegeventype": _code(rec.one(cp, SCHEMA + "contactType")),
            "waarde": rec.one(cp, RDF + "value"),
            "beschrijving": rec.one(cp, DCTERMS + "description"),
            "isPrimair": _flag(rec.one(cp, VRX + "isPrimair")),
            **_bron(rec, cp),
        })
    for agent in rec.iris(vc_iri, FV + "heeftVertegenwoordiger"):
        state["vertegenwoordigers"].append({
            "id": int(agent.rsplit("/", 1)[1]),
            "insz": rec.one(agent, VRX + "insz"),
            "voornaam": rec.one(agent, FOAF + "givenName"),
            "achternaam": rec.one(agent, FOAF + "familyName"),
            "roepnaam": rec.one(agent, PERSOON + "gebruikteVoornaam"),
            "rol": rec.one(agent, VRX + "rol"),
            "isPrimair": _flag(rec.one(agent, VRX + "isPrimair")),
            "email": rec.one(agent, SCHEMA + "email"),
            "telefoon": rec.one(agent, SCHEMA + "telephone"),
            "mobiel": rec.one(agent, VRX + "mobiel"),
            "socialMedia": rec.one(agent, VRX + "socialMedia"),
        })
    for membership in rec.iris(vc_iri, ORG + "hasMembership"):
        period = rec.one(membership, ORG + "memberDuring")
        state["lidmaatschappen"].append({
            "id": int(membership.rsplit("/", 1)[1]),
            "andereVereniging": (rec.one(membership, ORG + "organization") or "").rsplit("/", 1)[-1],
            "van": _day(rec.one(period, M8G + "startTime")) if period else None,
            "tot": _day(rec.one(period, M8G + "endTime")) if period else None,
            "identificatie": rec.one(membership, DCTERMS + "identifier"),
            "beschrijving": rec.one(membership, DCTERMS + "description"),
        })
    for erkenning in rec.iris(vc_iri, FV + "heeftErkenning"):
        period = rec.one(erkenning, FV + "geldigheidsperiode")
        state["erkenningen"].append({
            "id": int(erkenning.rsplit("/", 1)[1]),
            "ipdcProductNummer": rec.one(erkenning, VRX + "ipdcProductNummer"),
            "ipdcProductNaam": rec.one(erkenning, DCTERMS + "title"),
            "geregistreerdDoor": (rec.one(erkenning, FV + "toegekenddoor") or "").rsplit("/", 1)[-1],
            "startdatum": _day(rec.one(period, M8G + "startTime")) if period else None,
            "einddatum": _day(rec.one(period, M8G + "endTime")) if period else None,
            "hernieuwingsdatum": rec.one(erkenning, VRX + "hernieuwingsdatum"),
            "hernieuwingsUrl": rec.one(erkenning, FOAF + "page"),
        })
    for account in rec.iris(vc_iri, VRX + "bankrekening"):
        state["bankrekeningnummers"].append({
            "id": int(account.rsplit("/", 1)[1]),
            "iban": rec.one(account, SCHEMA + "identifier"),
            "doel": rec.one(account, DCTERMS + "description"),
            "titularissen": sorted(o.value for o in rec.all(account, VRX + "titularis")),
        })
    return state


def _sleutels(rec: Record, vc_iri: str) -> list[dict]:
    """A bestuur's own keys: the identifiers that name their creator organisation."""
    found = []
    for ident in rec.iris(vc_iri, ADMS + "identifier"):
        creator = rec.one(ident, DCTERMS + "creator")
        if creator:
            found.append({"bron": creator.rsplit("/", 1)[-1], "waarde": rec.one(ident, SKOS + "notation")})
    return sorted(found, key=lambda k: (k["bron"], k["waarde"]))


def _bron(rec: Record, node: str) -> dict:
    """Items that came from the KBO say so; initiator items carry no 'bron' key."""
    bron = rec.one(node, VRX + "bron")
    return {"bron": bron} if bron else {}


def _day(value: str | None) -> str | None:
    return value[:10] if value else None


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
