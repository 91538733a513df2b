"""The one description of a vereniging and its parts: add a field here and nowhere else.

Each field says its key (the state key, which is also its API and JSON-LD name), its RDF
predicate, its datatype or code list, its cardinality, whether it is restricted (personal data,
written to the restricted graph only), who owns it (the initiator or the KBO), its Dutch label
and its constraints. Parsing (parse.py), both mapping directions (mapping.py), the JSON-LD
context (context.py → mappings/vereniging.context.jsonld), the OpenAPI schemas, the history
labels and the export columns are driven by this description. The SHACL shapes stay
hand-written as the independent check; tests/test_model.py proves each field has a shape.

What a description cannot say lives in small named hooks: identifiers, the foundation event,
a contactgegeven's type-specific predicate, the full address, … (mapping.DERIVED).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from app.namespaces import PREFIXES

# datatypes -----------------------------------------------------------------------------------------
TEXT = "text"  # plain string literal
TEXT_NL = "text@nl"  # Dutch language-tagged literal
DATE = "date"  # xsd:date
DAY = "day"  # a date in the API, xsd:dateTime at midnight in RDF (the AP's range is dateTime)
DATETIME = "dateTime"  # xsd:dateTime, set by the register
BOOLEAN = "boolean"
INTEGER = "integer"
CODE = "code"  # a concept of `codelist`
IRI = "iri"  # a web address or other IRI
ANY_URI = "anyURI"  # a web address as an xsd:anyURI literal
VCODE = "vcode"  # another vereniging, an IRI in RDF
OVO = "ovo"  # an organisation's OVO code, an IRI in RDF
OBJECT = "object"  # a nested node with its own `fields`

INITIATOR, KBO = "initiator", "KBO"
# JSON-LD terms of the classes the register publishes
CLASS_TERMS = {"Vereniging": "fv:Vereniging", "FeitelijkeVereniging": "fv:FeitelijkeVereniging",
               "Vestiging": "org:Site", "Adres": "locn:Address", "Contactinfo": "schema:ContactPoint",
               "Vertegenwoordiger": "organisatie:Hoedanigheid", "Doelgroep": "schema:PeopleAudience"}
KBO_TYPES = frozenset({"VZW", "IVZW", "PS", "SVON"})  # verenigingstypes with legal personality
REGISTERABLE_TYPES = ("FV", "VZER")  # the rest registers through its KBO number


def iri(curie: str) -> str:
    """'schema:email' → the full IRI (full IRIs pass through)."""
    prefix, _, local = curie.partition(":")
    return PREFIXES[prefix] + local if prefix in PREFIXES and not local.startswith("//") else curie


@dataclass(frozen=True)
class Node:
    """An intermediate node a field's value hangs on, IRI `{subject}/{segment}`."""

    predicate: str
    segment: str
    types: tuple[str, ...] = ()
    term: str | None = None  # its JSON-LD term, when it has one


@dataclass(frozen=True)
class Field:
    key: str
    predicate: str
    datatype: str = TEXT
    label: str = ""
    codelist: str | None = None  # for CODE: the codelists.py name
    many: bool = False
    required: bool = False
    restricted: bool = False  # personal data: restricted graph only
    owner: str = INITIATOR  # KBO: for a vereniging with a KBO number only the KBO changes it
    writable: bool = True  # False: set by the register or a command, never by a request body
    immutable: bool = False  # items: cannot change once created
    max_len: int | None = None
    check: str | None = None  # a formats.py check (email, telefoon, insz, iban, …) or a Parser method
    letters: bool = False  # names: letters, no digits
    message: str = ""  # CODE: the Dutch message for an unknown code ({value} is filled in)
    duplicate: str = ""  # CODE lists: the Dutch message for a code given twice
    default: object = None
    via: Node | None = None  # stored on an intermediate node (a period)
    node: Node | None = None  # OBJECT: the node holding `fields`
    fields: tuple[Field, ...] = ()  # OBJECT: its fields
    key_field: str | None = None  # OBJECT with many: the sub-field naming each node `{segment}/{value}`
    always: bool = False  # OBJECT: written even when empty (doelgroep)
    derived: bool = False  # in the published RDF and the context only (computed by a mapping hook)
    omit_absent: bool = False  # state leaves the key out when there is no value (bron: only KBO items have it)
    term: str | None = None  # its JSON-LD term when that differs from the key (period dates: begin, einde)
    api: tuple[tuple[str, object], ...] = ()  # extra OpenAPI keywords (pattern, format, example, …)
    api_excludes: tuple[str, ...] = ()  # codes the API refuses (they only come from the KBO)
    max_items: int | None = None
    facet: str | None = None  # the search facet its values are counted under
    export: bool = True  # a column of the CSV export (vereniging fields)
    search: str | None = None  # the full-text column of the search index its values go into (app/index/full_text.py)
    description: str = ""

    @property
    def name(self) -> str:
        """The JSON-LD term of this field."""
        return self.term or self.key

    @property
    def kbo_owned(self) -> bool:
        return self.owner == KBO

    @property
    def iri(self) -> str:
        return iri(self.predicate)


@dataclass(frozen=True)
class Part:
    """A collection of items of a vereniging (locaties, contactgegevens, …), each at `{vereniging}/{segment}/{id}`."""

    kind: str  # state / API key of the collection
    segment: str
    label: str  # Dutch label of one item
    schema: str  # OpenAPI schema name of one item
    link: str  # predicate from the vereniging to an item
    types: tuple[str, ...]
    fields: tuple[Field, ...]
    parser: str | None = None  # Parser method with cross-field checks beyond the description
    restricted: bool = False
    registration: bool = True  # may be given when registering a feitelijke vereniging
    kbo_registration: bool = False  # … and when registering a KBO vereniging
    imported: bool = False  # spreadsheet rows carry these
    issuer_only: bool = False  # only the organisation that added an item may change or remove it
    kbo_owned_for_kbo_types: bool = False  # for verenigingen with legal personality they come from the KBO
    history_label: str = ""
    summary: str = ""  # one item in one export cell, a str.format template over its fields

    @cached_property
    def by_key(self) -> dict[str, Field]:
        return {f.key: f for f in self.fields}

    @property
    def input_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.writable and not f.derived)

    @property
    def immutable(self) -> frozenset[str]:
        return frozenset(f.key for f in self.fields if f.immutable)


@dataclass(frozen=True)
class Model:
    root_types: tuple[str, ...]
    fields: tuple[Field, ...]  # of the vereniging itself
    parts: tuple[Part, ...]

    @cached_property
    def by_key(self) -> dict[str, Field]:
        return {f.key: f for f in self.fields}

    @cached_property
    def by_kind(self) -> dict[str, Part]:
        return {p.kind: p for p in self.parts}

    def field(self, key: str) -> Field:
        return self.by_key[key]

    def part(self, kind: str) -> Part:
        return self.by_kind[kind]

    def basis_keys(self) -> tuple[str, ...]:
        """The basisgegevens an initiator may change (PATCH /verenigingen/{vCode})."""
        return tuple(f.key for f in self.fields if f.writable and not f.derived and f.key != "verenigingstype")

    def kbo_owned(self) -> frozenset[str]:
        return frozenset(f.key for f in self.fields if f.kbo_owned and f.writable and f.key != "verenigingstype")

    @cached_property
    def inputs(self) -> dict[str, Field]:
        """The vereniging's fields a request body may carry."""
        return {f.key: f for f in self.fields if f.writable and not f.derived}

    @cached_property
    def read_only(self) -> frozenset[str]:
        return frozenset({"id", *(f.key for f in self.fields if not f.writable or f.derived)})

    def registration_fields(self, kbo: bool) -> frozenset[str]:
        """What a registration body may carry (a KBO registration: with kboNummer, fewer parts)."""
        parts = [p.kind for p in self.parts if (p.kbo_registration if kbo else p.registration)]
        return frozenset({"verenigingstype", *self.basis_keys(), *parts, *(["kboNummer"] if kbo else [])})

    def facets(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.facet)

    def labels(self) -> dict[str, str]:
        """Dutch labels of what a change can touch, in order: the history lists changes with these."""
        return {**{f.key: f.label for f in self.fields if not f.derived},
                **{p.kind: p.history_label or p.kind for p in self.parts}}

    def with_field(self, new: Field, kind: str | None = None) -> Model:
        """A copy with one more field (on the vereniging, or on the part `kind`): what a change here costs."""
        if kind is None:
            return replace(self, fields=(*self.fields, new))
        parts = tuple(replace(p, fields=(*p.fields, new)) if p.kind == kind else p for p in self.parts)
        return replace(self, parts=parts)


def _period(predicate: str, term: str, start: str, end: str, label: str) -> tuple[Field, Field]:
    """Two dates of the API stored on one m8g:PeriodOfTime node `{item}/periode`."""
    node = Node(predicate, "periode", ("m8g:PeriodOfTime",), term=term)
    return (Field(start, "m8g:startTime", DAY, f"{label} vanaf", via=node, term="begin"),
            Field(end, "m8g:endTime", DAY, f"{label} tot", via=node, term="einde"))


TEXT_MAX = 128  # beschrijving / locatie naam, as in the official register
# The official register has no limits here (reference §10); ours keep pages and streams sane.
NAAM_MAX, KORTE_NAAM_MAX, KORTE_BESCHRIJVING_MAX = 250, 100, 1000
_PRIMARY = Field("isPrimair", "vrx:isPrimair", BOOLEAN, "primair", default=False)
_BRON = Field("bron", "vrx:bron", TEXT, "bron", writable=False, omit_absent=True)

ADRES = Field(
    "adres", "locn:address", OBJECT, "adres", node=Node("locn:address", "adres", ("locn:Address",)),
    fields=(
        Field("straatnaam", "locn:thoroughfare", TEXT_NL, "straatnaam", required=True),
        Field("huisnummer", "adres:Adresvoorstelling.huisnummer", TEXT, "huisnummer", required=True,
              check="huisnummer"),
        Field("busnummer", "adres:Adresvoorstelling.busnummer", TEXT, "busnummer", check="huisnummer"),
        Field("postcode", "locn:postCode", TEXT, "postcode", required=True, check="postcode", search="plaats"),
        Field("gemeente", "adres:gemeentenaam", TEXT_NL, "gemeente", required=True, search="plaats"),
        Field("land", "adres:land", TEXT_NL, "land", required=True),
    ))

MODEL = Model(
    root_types=("fv:Vereniging", "org:Organization"),
    fields=(
        Field("naam", "skos:prefLabel", TEXT_NL, "naam", required=True, owner=KBO, max_len=NAAM_MAX, search="naam"),
        Field("korteNaam", "skos:altLabel", TEXT_NL, "korte naam", owner=KBO, max_len=KORTE_NAAM_MAX,
              search="korte_naam"),
        Field("korteBeschrijving", "dcterms:description", TEXT_NL, "korte beschrijving", export=False,
              max_len=KORTE_BESCHRIJVING_MAX, search="beschrijving"),
        Field("startdatum", "schema:foundingDate", DATE, "startdatum", owner=KBO, api=(("example", "2015-09-01"),)),
        Field("einddatum", "schema:dissolutionDate", DATE, "einddatum", restricted=True, writable=False),
        Field("status", "regorg:orgStatus", CODE, "status", codelist="verenigingstatus", writable=False,
              facet="status"),
        Field("verenigingstype", "org:classification", CODE, "type", codelist="verenigingstypes", required=True,
              owner=KBO, facet="type"),
        Field("doelgroep", "schema:audience", OBJECT, "doelgroep", always=True,
              node=Node("schema:audience", "doelgroep", ("schema:PeopleAudience",)),
              fields=(Field("minimumleeftijd", "schema:suggestedMinAge", INTEGER, "minimumleeftijd", default=0),
                      Field("maximumleeftijd", "schema:suggestedMaxAge", INTEGER, "maximumleeftijd",
                            default=150))),
        Field("hoofdactiviteiten", "regorg:orgActivity", CODE, "hoofdactiviteiten", codelist="hoofdactiviteiten",
              many=True, max_items=3, facet="hoofdactiviteit", search="activiteit",
              message="De opgegeven hoofdactiviteit is niet gekend: \"{value}\".",
              duplicate="Een waarde in de hoofdactiviteitenLijst mag slechts 1 maal voorkomen."),
        Field("werkingsgebieden", "dcterms:spatial", CODE, "werkingsgebieden", codelist="werkingsgebieden",
              many=True, message="Het opgegeven werkingsgebied is niet gekend: \"{value}\".",
              duplicate="Elke waarde in de werkingsgebieden mag slechts eenmaal voorkomen."),
        Field("roepnaam", "schema:alternateName", TEXT_NL, "roepnaam", max_len=NAAM_MAX, export=False, search="naam",
              description="De naam waaronder een vereniging met rechtspersoonlijkheid bekend is, naast haar "
                          "KBO-naam; enkel voor VZW, IVZW, PS en SVON."),
        Field("isErkend", "vrx:isErkend", BOOLEAN, "erkend", writable=False, default=False, export=False),
        Field("inStopzetting", "vrx:inStopzetting", BOOLEAN, "in stopzetting", writable=False, default=False,
              export=False),
        Field("stopzettingsmelding", "vrx:stopzettingsmelding", OBJECT, "melding van stopzetting", writable=False,
              export=False, node=Node("vrx:stopzettingsmelding", "stopzetting", ("vrx:Stopzettingsmelding",)),
              fields=(Field("datum", "dcterms:date", DATE, "in stopzetting sinds"),
                      Field("reden", "dcterms:description", TEXT, "reden van stopzetting"),
                      Field("door", "prov:wasAttributedTo", OVO, "gemeld door"))),
        Field("vCode", "dcterms:identifier", TEXT, "V-code", derived=True),
        Field("aangemaakt", "dcterms:created", DATETIME, "aangemaakt", derived=True),
        Field("gewijzigd", "dcterms:modified", DATETIME, "gewijzigd", derived=True),
    ),
    parts=(
        Part("locaties", "locatie", "Locatie", "Locatie", "org:hasSite", ("org:Site",), parser="locatie",
             kbo_registration=True, imported=True, fields=(
                 Field("locatietype", "dcterms:type", CODE, "locatietype", codelist="locatietypes", required=True,
                       api_excludes=("MaatschappelijkeZetelVolgensKBO",)),
                 _PRIMARY,
                 Field("naam", "rdfs:label", TEXT_NL, "naam", max_len=TEXT_MAX),
                 ADRES,
                 Field("adresId", "adres:verwijstNaar", IRI, "adres uit het Adressenregister", check="adres_id",
                       api=(("pattern", "^https://data\\.vlaanderen\\.be/id/adres/[0-9]+$"),)),
                 Field("adresvoorstelling", "locn:fullAddress", TEXT_NL, "adresvoorstelling", derived=True),
                 # oslo.py: the profile's path to the address (a contact point holding locn:address)
                 Field("vestigingsadres", "org:siteAddress", TEXT, "vestigingsadres", derived=True),
                 _BRON,
             )),
        Part("contactgegevens", "contactgegeven", "Contactgegeven", "Contactgegeven", "schema:contactPoint",
             ("schema:ContactPoint",), parser="contactgegeven", kbo_registration=True, imported=True, fields=(
                 Field("contactgegeventype", "schema:contactType", CODE, "type", codelist="contactgegeventypes",
                       required=True, immutable=True),
                 Field("waarde", "rdf:value", TEXT, "waarde", required=True, search="contact"),
                 Field("beschrijving", "dcterms:description", TEXT, "beschrijving", max_len=TEXT_MAX),
                 _PRIMARY,
                 _BRON,
                 # the value again under the predicate of its type (mapping._contact_channel)
                 Field("email", "schema:email", TEXT, "e-mail", derived=True),
                 Field("telefoon", "schema:telephone", TEXT, "telefoon", derived=True),
                 Field("website", "foaf:page", ANY_URI, "website", derived=True),  # typed as the OSLO profile asks
                 Field("socialMedia", "vrx:socialMedia", IRI, "sociale media", derived=True),
                 Field("url", "schema:url", IRI, "link", derived=True),  # oslo.py: the website as a link
             )),
        Part("vertegenwoordigers", "vertegenwoordiger", "Vertegenwoordiger", "Vertegenwoordiger",
             "fv:heeftVertegenwoordiger", ("organisatie:Hoedanigheid", "dcterms:Agent"), restricted=True,
             summary="{voornaam} {achternaam} ({insz})",
             imported=True, kbo_owned_for_kbo_types=True, fields=(
                 Field("insz", "vrx:insz", TEXT, "INSZ", required=True, immutable=True, check="insz",
                       api=(("pattern", "^[0-9. -]{11,15}$"),)),
                 Field("voornaam", "foaf:givenName", TEXT, "voornaam", required=True, immutable=True, letters=True),
                 Field("achternaam", "foaf:familyName", TEXT, "achternaam", required=True, immutable=True,
                       letters=True),
                 Field("roepnaam", "persoon:gebruikteVoornaam", TEXT, "roepnaam"),
                 Field("rol", "vrx:rol", TEXT, "rol"),
                 _PRIMARY,
                 Field("email", "schema:email", TEXT, "e-mail", check="email", api=(("format", "email"),)),
                 Field("telefoon", "schema:telephone", TEXT, "telefoon", check="telephone"),
                 Field("mobiel", "vrx:mobiel", TEXT, "mobiel", check="telephone"),
                 Field("socialMedia", "vrx:socialMedia", IRI, "sociale media", check="web_address"),
             )),
        Part("lidmaatschappen", "lidmaatschap", "Lidmaatschap", "Lidmaatschap", "org:hasMembership",
             ("org:Membership",), fields=(
                 Field("andereVereniging", "org:organization", VCODE, "andere vereniging", required=True,
                       immutable=True, check="vcode"),
                 *_period("org:memberDuring", "periode", "van", "tot", "lid"),
                 Field("identificatie", "dcterms:identifier", TEXT, "identificatie", max_len=TEXT_MAX),
                 Field("beschrijving", "dcterms:description", TEXT, "beschrijving", max_len=TEXT_MAX),
             )),
        Part("erkenningen", "erkenning", "Erkenning", "Erkenning", "fv:heeftErkenning", ("fv:Erkenning",),
             registration=False, issuer_only=True, fields=(
                 Field("ipdcProductNummer", "vrx:ipdcProductNummer", TEXT, "IPDC-productnummer", required=True,
                       immutable=True, check="digits", api=(("pattern", "^[0-9]+$"),)),
                 Field("ipdcProductNaam", "dcterms:title", TEXT_NL, "IPDC-productnaam", max_len=TEXT_MAX),
                 Field("geregistreerdDoor", "fv:toegekenddoor", OVO, "geregistreerd door", writable=False),
                 *_period("fv:geldigheidsperiode", "geldigheidsperiode", "startdatum", "einddatum", "erkend"),
                 Field("hernieuwingsdatum", "vrx:hernieuwingsdatum", DATE, "hernieuwingsdatum"),
                 Field("hernieuwingsUrl", "foaf:page", IRI, "hernieuwings-URL", check="web_address"),
                 Field("status", "adms:status", CODE, "status", codelist="erkenningstatus", writable=False),
                 Field("schorsing", "vrx:schorsing", OBJECT, "schorsing", writable=False,
                       node=Node("vrx:schorsing", "schorsing", ("vrx:Schorsing", "m8g:PeriodOfTime")),
                       fields=(Field("reden", "dcterms:description", TEXT, "reden van schorsing"),
                               Field("van", "m8g:startTime", DAY, "geschorst vanaf"),
                               Field("tot", "m8g:endTime", DAY, "geschorst tot"))),
             )),
        Part("bankrekeningnummers", "bankrekeningnummer", "Bankrekeningnummer", "Bankrekeningnummer",
             "vrx:bankrekening", ("schema:BankAccount",), restricted=True, summary="{iban}", fields=(
                 Field("iban", "schema:identifier", TEXT, "IBAN", required=True, immutable=True, check="iban",
                       api=(("example", "BE71 0961 2345 6769"),)),
                 Field("doel", "dcterms:description", TEXT, "doel", max_len=TEXT_MAX),
                 Field("titularissen", "vrx:titularis", TEXT, "titularissen", many=True, required=True,
                       max_len=TEXT_MAX, check="titularissen"),
                 Field("validaties", "vrx:validatie", OBJECT, "validaties", many=True, writable=False,
                       key_field="door", node=Node("vrx:validatie", "validatie", ("vrx:Bankrekeningvalidatie",)),
                       fields=(Field("door", "prov:wasAssociatedWith", OVO, "gevalideerd door"),
                               Field("tijdstip", "prov:endedAtTime", DATETIME, "gevalideerd op"),
                               Field("document", "vrx:document", TEXT, "document"))),
             )),
    ),
)
