"""Turn the compact JSON(-LD) body of a command into clean, typed field values.

Parsing checks each field on its own (type, format, code list membership) and collects
every problem with its path; invariants that span fields or entities live in rules.py so
they also hold for states reached by later changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.domain import codelists
from app.domain.vcode import parse_vcode
from app.validation import formats
from app.validation.errors import FieldErrors

TEXT_MAX = 128  # beschrijving / locatie naam, as in the official register
# The official register has no limits here (reference §10); ours keep pages and streams sane.
NAAM_MAX, KORTE_NAAM_MAX, KORTE_BESCHRIJVING_MAX = 250, 100, 1000

REGISTRATION_KINDS = ("locaties", "contactgegevens", "vertegenwoordigers", "lidmaatschappen", "bankrekeningnummers")
REGISTRATION_FIELDS = {
    "verenigingstype", "naam", "korteNaam", "korteBeschrijving", "startdatum", "doelgroep",
    "hoofdactiviteiten", "werkingsgebieden", *REGISTRATION_KINDS,
}
KBO_REGISTRATION_FIELDS = {"kboNummer", "verenigingstype", "naam", "korteNaam", "korteBeschrijving", "startdatum",
                           "doelgroep", "hoofdactiviteiten", "werkingsgebieden", "locaties", "contactgegevens"}
READ_ONLY_FIELDS = {"id", "vCode", "status", "einddatum", "aangemaakt", "gewijzigd"}
JSONLD_KEYWORDS = {"@context", "@type", "type"}
ACCEPTED_TYPES = {"Vereniging", "FeitelijkeVereniging", "fv:Vereniging", "fv:FeitelijkeVereniging"}

LOCATIE_FIELDS = {"locatietype", "isPrimair", "naam", "adres", "adresId"}
ADRES_FIELDS = {"straatnaam", "huisnummer", "busnummer", "postcode", "gemeente", "land"}
ADRES_REQUIRED = ("straatnaam", "huisnummer", "postcode", "gemeente", "land")
CONTACT_FIELDS = {"contactgegeventype", "waarde", "beschrijving", "isPrimair"}
VERTEGENWOORDIGER_FIELDS = {
    "insz", "voornaam", "achternaam", "roepnaam", "rol", "isPrimair", "email", "telefoon", "mobiel",
    "socialMedia",
}
ADRES_REGISTER = "https://data.vlaanderen.be/id/adres/"
REGISTERABLE_TYPES = ("FV", "VZER")


class Parser:
    """Parses one body; `errors` collects every problem found."""

    def __init__(self, kbo_source: bool = False) -> None:
        self.errors = FieldErrors()
        self.kbo_source = kbo_source  # data from the KBO itself may use KBO-only values

    # -- generic values -------------------------------------------------------------------
    def unknown_keys(self, obj: dict, allowed: set[str], path: str) -> None:
        for key in obj:
            if key in allowed or key in JSONLD_KEYWORDS:
                continue
            where = f"{path}.{key}" if path else key
            if key in READ_ONLY_FIELDS and not path:
                self.errors.add(where, "alleen-lezen",
                                f"'{key}' wordt door het register bepaald en kan niet opgegeven worden.")
            else:
                self.errors.add(where, "onbekende-eigenschap",
                                f"'{key}' is geen gekende eigenschap op deze plaats.")

    def text(self, value: Any, path: str, *, required: bool = False, max_len: int | None = None,
             letters: bool = False) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.errors.add(path, "verplicht", f"'{_leaf(path)}' is verplicht en mag niet leeg zijn.")
            return None
        if not isinstance(value, str):
            self.errors.add(path, "geen-tekst", f"'{_leaf(path)}' moet een tekst zijn.")
            return None
        value = value.strip()
        if formats.contains_html(value):
            self.errors.add(path, "html", "Deze waarde bevat niet toegestane tekens.")
            return None
        if max_len is not None and len(value) > max_len:
            self.errors.add(path, "te-lang", f"'{_leaf(path)}' mag niet langer dan {max_len} karakters zijn.")
            return None
        if letters and (any(ch.isdigit() for ch in value) or not any(ch.isalpha() for ch in value)):
            self.errors.add(path, "ongeldige-naam",
                            f"'{_leaf(path)}' moet letters bevatten en mag geen cijfers bevatten.")
            return None
        return value

    def boolean(self, value: Any, path: str) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            self.errors.add(path, "geen-boolean", f"'{_leaf(path)}' moet true of false zijn.")
            return False
        return value

    def date(self, value: Any, path: str) -> str | None:
        if value is None or value == "":
            return None
        try:
            return formats.parse_date(value).isoformat()
        except ValueError as exc:
            self.errors.add(path, "datumformaat", str(exc))
            return None

    def age(self, value: Any, path: str, default: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors.add(path, "geen-getal", f"'{_leaf(path)}' moet een geheel getal zijn.")
            return default
        if not 0 <= value <= 150:
            self.errors.add(path, "leeftijd-bereik", f"De '{_leaf(path)}' moet binnen 0 en 150 vallen.")
        return value

    def code(self, value: Any, path: str, codelist: str, message: str) -> str | None:
        if value is None:
            self.errors.add(path, "verplicht", f"'{_leaf(path)}' is verplicht.")
            return None
        if not isinstance(value, str):
            self.errors.add(path, "geen-tekst", f"'{_leaf(path)}' moet een tekst (een code) zijn.")
            return None
        concept = codelists.get(codelist).find(value)
        if concept is None:
            self.errors.add(path, "onbekende-code", message.format(value=value))
            return None
        return concept.code

    def codes(self, value: Any, path: str, codelist: str, message: str, duplicate: str) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.errors.add(path, "geen-lijst", f"'{path}' moet een lijst van codes zijn.")
            return []
        result: list[str] = []
        for index, item in enumerate(value):
            code = self.code(item, f"{path}[{index}]", codelist, message)
            if code is None:
                continue
            if code in result:
                self.errors.add(f"{path}[{index}]", "dubbele-waarde", duplicate)
                continue
            result.append(code)
        return result

    def objects(self, value: Any, path: str) -> list[tuple[str, dict]]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.errors.add(path, "geen-lijst", f"'{path}' moet een lijst van objecten zijn.")
            return []
        result = []
        for index, item in enumerate(value):
            item_path = f"{path}[{index}]"
            if not isinstance(item, dict):
                self.errors.add(item_path, "geen-object", f"'{item_path}' moet een object zijn.")
                continue
            result.append((item_path, item))
        return result

    # -- entities -------------------------------------------------------------------------
    def doelgroep(self, value: Any, path: str = "doelgroep") -> dict[str, int]:
        if value is None:
            return {"minimumleeftijd": 0, "maximumleeftijd": 150}
        if not isinstance(value, dict):
            self.errors.add(path, "geen-object", "'doelgroep' moet een object zijn.")
            return {"minimumleeftijd": 0, "maximumleeftijd": 150}
        self.unknown_keys(value, {"minimumleeftijd", "maximumleeftijd"}, path)
        return {
            "minimumleeftijd": self.age(value.get("minimumleeftijd"), f"{path}.minimumleeftijd", 0),
            "maximumleeftijd": self.age(value.get("maximumleeftijd"), f"{path}.maximumleeftijd", 150),
        }

    def adres(self, value: Any, path: str) -> dict[str, str] | None:
        if not isinstance(value, dict):
            self.errors.add(path, "geen-object", "'adres' moet een object zijn.")
            return None
        self.unknown_keys(value, ADRES_FIELDS, path)
        adres = {}
        for key in ADRES_FIELDS:
            text = self.text(value.get(key), f"{path}.{key}", required=key in ADRES_REQUIRED)
            check = {"postcode": formats.postcode, "huisnummer": formats.huisnummer,
                     "busnummer": formats.huisnummer}.get(key)
            if text is not None and check is not None:
                text = self.checked(check, text, f"{path}.{key}")
            if text is not None:
                adres[key] = text
        return adres

    def locatie(self, item: dict, path: str) -> dict:
        self.unknown_keys(item, LOCATIE_FIELDS, path)
        locatietype = self.code(item.get("locatietype"), f"{path}.locatietype", "locatietypes",
                                "Het opgegeven locatietype is niet gekend: \"{value}\".")
        if locatietype == "MaatschappelijkeZetelVolgensKBO" and not self.kbo_source:
            self.errors.add(f"{path}.locatietype", "kbo-locatietype",
                            "Het locatietype 'Maatschappelijke zetel volgens KBO' kan enkel uit de KBO komen.")
        locatie = {
            "locatietype": locatietype,
            "isPrimair": self.boolean(item.get("isPrimair"), f"{path}.isPrimair"),
            "naam": self.text(item.get("naam"), f"{path}.naam", max_len=TEXT_MAX),
            "adres": None,
            "adresId": None,
        }
        has_adres, has_id = item.get("adres") is not None, item.get("adresId") is not None
        if has_adres == has_id:
            self.errors.add(path, "adres-of-adresid", "'Locatie' moet of een adres of een adresId bevatten.")
        if has_adres:
            locatie["adres"] = self.adres(item["adres"], f"{path}.adres")
        if has_id:
            adres_id = item["adresId"]
            if not isinstance(adres_id, str) or not adres_id.startswith(ADRES_REGISTER) \
                    or not formats.is_digits(adres_id[len(ADRES_REGISTER):]):
                self.errors.add(f"{path}.adresId", "adresid-formaat",
                                f"Een adresId moet een adres uit het Adressenregister zijn ({ADRES_REGISTER}<id>).")
            else:
                locatie["adresId"] = adres_id
        return locatie

    def contactgegeven(self, item: dict, path: str) -> dict:
        self.unknown_keys(item, CONTACT_FIELDS, path)
        kind = self.code(item.get("contactgegeventype"), f"{path}.contactgegeventype", "contactgegeventypes",
                         "Het opgegeven contactgegeventype is niet gekend: \"{value}\".")
        waarde = self.text(item.get("waarde"), f"{path}.waarde", required=True)
        if kind and waarde:
            waarde = self.contact_value(kind, waarde, f"{path}.waarde")
        return {
            "contactgegeventype": kind,
            "waarde": waarde,
            "beschrijving": self.text(item.get("beschrijving"), f"{path}.beschrijving", max_len=TEXT_MAX),
            "isPrimair": self.boolean(item.get("isPrimair"), f"{path}.isPrimair"),
        }

    def contact_value(self, kind: str, value: str, path: str) -> str | None:
        check = {
            "E-mail": formats.email,
            "Telefoon": formats.telephone,
            "Website": formats.web_address,
            "SocialMedia": formats.web_address,
        }[kind]
        return self.checked(check, value, path)

    def checked(self, check: Any, value: str, path: str, code: str = "formaat") -> str | None:
        """`check(value)` from formats.py, its ValueError recorded at `path`."""
        try:
            return check(value)
        except ValueError as exc:
            self.errors.add(path, code, str(exc))
            return None

    def vertegenwoordiger(self, item: dict, path: str) -> dict:
        self.unknown_keys(item, VERTEGENWOORDIGER_FIELDS, path)
        insz = None
        if item.get("insz") in (None, ""):
            self.errors.add(f"{path}.insz", "verplicht", "'insz' is verplicht.")
        else:
            try:
                insz = formats.insz(item["insz"])
            except ValueError as exc:
                self.errors.add(f"{path}.insz", "insz", str(exc))
        result: dict[str, Any] = {
            "insz": insz,
            "voornaam": self.text(item.get("voornaam"), f"{path}.voornaam", required=True, letters=True),
            "achternaam": self.text(item.get("achternaam"), f"{path}.achternaam", required=True, letters=True),
            "roepnaam": self.text(item.get("roepnaam"), f"{path}.roepnaam"),
            "rol": self.text(item.get("rol"), f"{path}.rol"),
            "isPrimair": self.boolean(item.get("isPrimair"), f"{path}.isPrimair"),
        }
        for key, kind in (("email", "E-mail"), ("telefoon", "Telefoon"), ("mobiel", "Telefoon"),
                          ("socialMedia", "SocialMedia")):
            text = self.text(item.get(key), f"{path}.{key}")
            result[key] = self.contact_value(kind, text, f"{path}.{key}") if text else None
        return result


    def lidmaatschap(self, item: dict, path: str) -> dict:
        self.unknown_keys(item, LIDMAATSCHAP_FIELDS, path)
        other = item.get("andereVereniging")
        code = parse_vcode(other) if isinstance(other, str) else None
        if code is None:
            self.errors.add(f"{path}.andereVereniging", "vcode",
                            "'andereVereniging' moet de V-code van een vereniging zijn (formaat V0000000).")
        return {
            "andereVereniging": code,
            "van": self.date(item.get("van"), f"{path}.van"),
            "tot": self.date(item.get("tot"), f"{path}.tot"),
            "identificatie": self.text(item.get("identificatie"), f"{path}.identificatie", max_len=TEXT_MAX),
            "beschrijving": self.text(item.get("beschrijving"), f"{path}.beschrijving", max_len=TEXT_MAX),
        }

    def erkenning(self, item: dict, path: str) -> dict:
        self.unknown_keys(item, ERKENNING_FIELDS, path)
        nummer = self.text(item.get("ipdcProductNummer"), f"{path}.ipdcProductNummer", required=True)
        if nummer and not formats.is_digits(nummer):
            self.errors.add(f"{path}.ipdcProductNummer", "ipdc-formaat", "Een IPDC-productnummer bestaat uit cijfers.")
            nummer = None
        url = self.text(item.get("hernieuwingsUrl"), f"{path}.hernieuwingsUrl")
        if url:
            try:
                url = formats.web_address(url)
            except ValueError as exc:
                self.errors.add(f"{path}.hernieuwingsUrl", "formaat", str(exc))
                url = None
        return {
            "ipdcProductNummer": nummer,
            "ipdcProductNaam": self.text(item.get("ipdcProductNaam"), f"{path}.ipdcProductNaam", max_len=TEXT_MAX),
            "startdatum": self.date(item.get("startdatum"), f"{path}.startdatum"),
            "einddatum": self.date(item.get("einddatum"), f"{path}.einddatum"),
            "hernieuwingsdatum": self.date(item.get("hernieuwingsdatum"), f"{path}.hernieuwingsdatum"),
            "hernieuwingsUrl": url,
        }

    def bankrekeningnummer(self, item: dict, path: str) -> dict:
        self.unknown_keys(item, BANKREKENING_FIELDS, path)
        iban = None
        if item.get("iban") in (None, ""):
            self.errors.add(f"{path}.iban", "verplicht", "'iban' is verplicht.")
        else:
            try:
                iban = formats.belgian_iban(item["iban"])
            except ValueError as exc:
                self.errors.add(f"{path}.iban", "iban", str(exc))
        holders = item.get("titularissen")
        titularissen: list[str] = []
        if holders is not None and not isinstance(holders, list):
            self.errors.add(f"{path}.titularissen", "geen-lijst", "'titularissen' moet een lijst van namen zijn.")
        elif not holders:
            self.errors.add(f"{path}.titularissen", "verplicht", "Er is minstens één titularis nodig.")
        else:
            for index, holder in enumerate(holders):
                text = self.text(holder, f"{path}.titularissen[{index}]", required=True, max_len=TEXT_MAX)
                if text and text.casefold() in {t.casefold() for t in titularissen}:
                    self.errors.add(f"{path}.titularissen[{index}]", "dubbele-waarde",
                                    "Elke titularis mag slechts één keer voorkomen.")
                elif text:
                    titularissen.append(text)
        return {
            "iban": iban,
            "doel": self.text(item.get("doel"), f"{path}.doel", max_len=TEXT_MAX),
            "titularissen": sorted(titularissen),
        }

    def basis(self, doc: dict, state: dict) -> None:
        """Parse the basisgegevens present in `doc` into `state` (registration and PATCH)."""
        if "naam" in doc:
            state["naam"] = self.text(doc["naam"], "naam", required=True, max_len=NAAM_MAX)
        for key, limit in (("korteNaam", KORTE_NAAM_MAX), ("korteBeschrijving", KORTE_BESCHRIJVING_MAX)):
            if key in doc:
                state[key] = self.text(doc[key], key, max_len=limit)
        if "startdatum" in doc:
            state["startdatum"] = self.date(doc["startdatum"], "startdatum")
        if "doelgroep" in doc:
            state["doelgroep"] = self.doelgroep(doc["doelgroep"])
        if "hoofdactiviteiten" in doc:
            state["hoofdactiviteiten"] = self.codes(
                doc["hoofdactiviteiten"], "hoofdactiviteiten", "hoofdactiviteiten",
                "De opgegeven hoofdactiviteit is niet gekend: \"{value}\".",
                "Een waarde in de hoofdactiviteitenLijst mag slechts 1 maal voorkomen.")
        if "werkingsgebieden" in doc:
            state["werkingsgebieden"] = self.codes(
                doc["werkingsgebieden"], "werkingsgebieden", "werkingsgebieden",
                "Het opgegeven werkingsgebied is niet gekend: \"{value}\".",
                "Elke waarde in de werkingsgebieden mag slechts eenmaal voorkomen.")

    def collection(self, doc: dict, kind: str) -> list[dict]:
        method = getattr(self, KINDS[kind].parser)
        return [method(item, path) for path, item in self.objects(doc.get(kind), kind)]


@dataclass(frozen=True)
class Kind:
    """A sub-resource collection of a vereniging."""

    parser: str  # Parser method for one item
    segment: str  # IRI segment of one item: {vereniging}/{segment}/{id}
    fields: frozenset[str]
    immutable: frozenset[str] = frozenset()  # may not change once created
    restricted: bool = False


LIDMAATSCHAP_FIELDS = {"andereVereniging", "van", "tot", "identificatie", "beschrijving"}
ERKENNING_FIELDS = {"ipdcProductNummer", "ipdcProductNaam", "startdatum", "einddatum", "hernieuwingsdatum",
                    "hernieuwingsUrl"}
BANKREKENING_FIELDS = {"iban", "doel", "titularissen"}
KINDS = {
    "locaties": Kind("locatie", "locatie", frozenset(LOCATIE_FIELDS)),
    "contactgegevens": Kind("contactgegeven", "contactgegeven", frozenset(CONTACT_FIELDS),
                            frozenset({"contactgegeventype"})),
    "vertegenwoordigers": Kind("vertegenwoordiger", "vertegenwoordiger", frozenset(VERTEGENWOORDIGER_FIELDS),
                               frozenset({"insz", "voornaam", "achternaam"}), restricted=True),
    "lidmaatschappen": Kind("lidmaatschap", "lidmaatschap", frozenset(LIDMAATSCHAP_FIELDS),
                            frozenset({"andereVereniging"})),
    "erkenningen": Kind("erkenning", "erkenning", frozenset(ERKENNING_FIELDS), frozenset({"ipdcProductNummer"})),
    "bankrekeningnummers": Kind("bankrekeningnummer", "bankrekeningnummer", frozenset(BANKREKENING_FIELDS),
                                frozenset({"iban"}), restricted=True),
}
BASIS_FIELDS = {"naam", "korteNaam", "korteBeschrijving", "startdatum", "doelgroep", "hoofdactiviteiten",
                "werkingsgebieden"}
KBO_OWNED = {"naam", "korteNaam", "startdatum"}


def _require_object(parser: Parser, doc: Any, what: str) -> dict:
    if not isinstance(doc, dict):
        parser.errors.add("", "geen-object", f"De body moet één JSON-object ({what}) zijn.")
        parser.errors.raise_if_any()
    return doc


def empty_state(verenigingstype: str) -> dict:
    state: dict[str, Any] = {
        "verenigingstype": verenigingstype, "status": "Actief", "naam": None, "korteNaam": None,
        "korteBeschrijving": None, "startdatum": None, "einddatum": None, "kboNummer": None, "sleutels": [],
        "doelgroep": {"minimumleeftijd": 0, "maximumleeftijd": 150}, "hoofdactiviteiten": [], "werkingsgebieden": [],
    }
    state.update({kind: [] for kind in KINDS})
    return state


def parse_registration(doc: Any) -> dict:
    """Validate a registration body (FV/VZER) field by field and return the new vereniging's state.

    Raises CommandRejected (400) listing every field error.
    """
    parser = Parser()
    doc = _require_object(parser, doc, "één vereniging")
    parser.unknown_keys(doc, REGISTRATION_FIELDS, "")
    declared = doc.get("@type", doc.get("type"))
    for item in declared if isinstance(declared, list) else [declared] if declared else []:
        if item not in ACCEPTED_TYPES:
            parser.errors.add("@type", "onbekend-type",
                              f"Type '{item}' kan niet geregistreerd worden; gebruik 'FeitelijkeVereniging'.")
    verenigingstype = "VZER"
    if doc.get("verenigingstype") is not None:
        verenigingstype = parser.code(doc["verenigingstype"], "verenigingstype", "verenigingstypes",
                                      "Het opgegeven verenigingstype is niet gekend: \"{value}\".") or "VZER"
        if verenigingstype not in REGISTERABLE_TYPES:
            parser.errors.add("verenigingstype", "kbo-type",
                              f"Een vereniging van type '{verenigingstype}' wordt geregistreerd via haar "
                              "KBO-nummer (POST /verenigingen/kbo), niet met dit formulier.")
    state = empty_state(verenigingstype)
    parser.basis({"naam": doc.get("naam"), **{k: v for k, v in doc.items() if k in BASIS_FIELDS}}, state)
    for kind in REGISTRATION_KINDS:
        state[kind] = parser.collection(doc, kind)
    parser.errors.raise_if_any()
    return state


def parse_kbo_registration(doc: Any) -> dict:
    """A vereniging with legal personality, identified by its KBO number.

    Until the KBO synchronisation feeds these fields, the initiator supplies the KBO data
    (naam, rechtsvorm, …) once; afterwards those fields are read-only for initiators.
    """
    parser = Parser()
    doc = _require_object(parser, doc, "één KBO-vereniging")
    parser.unknown_keys(doc, KBO_REGISTRATION_FIELDS, "")
    kbo = None
    try:
        kbo = formats.kbo_number(doc.get("kboNummer") or "")
    except ValueError as exc:
        parser.errors.add("kboNummer", "kbo-nummer", str(exc))
    kind = parser.code(doc.get("verenigingstype"), "verenigingstype", "verenigingstypes",
                       "Het opgegeven verenigingstype is niet gekend: \"{value}\".")
    if kind and kind in REGISTERABLE_TYPES:
        parser.errors.add("verenigingstype", "geen-kbo-type",
                          "Er werd voor dit KBO-nummer geen geldige vereniging gevonden: enkel VZW, IVZW, PS en SVON.")
    state = empty_state(kind or "VZW")
    state["kboNummer"] = kbo
    parser.basis({"naam": doc.get("naam"), **{k: v for k, v in doc.items() if k in BASIS_FIELDS}}, state)
    for kind_name in ("locaties", "contactgegevens"):
        state[kind_name] = parser.collection(doc, kind_name)
    parser.errors.raise_if_any()
    return state


def parse_basis_patch(doc: Any, state: dict) -> dict:
    """Apply an RFC 7386 merge patch on the basisgegevens and re-validate the result."""
    parser = Parser()
    doc = _require_object(parser, doc, "een merge patch")
    if not doc:
        parser.errors.add("", "leeg", "Een request mag niet leeg zijn.")
    for key in doc:
        if key in KINDS:
            parser.errors.add(key, "subresource",
                              f"'{key}' wijzig je via /verenigingen/<vCode>/{key}, niet via de basisgegevens.")
        elif key not in BASIS_FIELDS and key not in JSONLD_KEYWORDS:
            parser.unknown_keys({key: None}, BASIS_FIELDS, "")
        elif key in KBO_OWNED and state.get("kboNummer"):
            parser.errors.add(key, "kbo-veld", f"'{key}' komt uit de KBO en kan enkel daar gewijzigd worden.")
    parser.errors.raise_if_any()
    current = {key: state.get(key) for key in BASIS_FIELDS}
    merged = merge_patch(current, {k: v for k, v in doc.items() if k not in JSONLD_KEYWORDS})
    new = dict(state)
    parser.basis({key: merged.get(key) for key in BASIS_FIELDS}, new)
    parser.errors.raise_if_any()
    return new


def parse_item(kind: str, doc: Any, current: dict | None = None) -> dict:
    """One sub-resource item: a new one (POST) or `current` with a merge patch applied (PATCH)."""
    parser = Parser(kbo_source=bool(current and current.get("bron") == "KBO"))
    spec = KINDS[kind]
    doc = _require_object(parser, doc, "één item")
    if current is not None:
        if not doc:
            parser.errors.add("", "leeg", "Een request mag niet leeg zijn.")
        for key in doc:
            if key in spec.immutable and doc[key] != current.get(key):
                parser.errors.add(key, "onwijzigbaar",
                                  f"'{key}' kan niet gewijzigd worden; verwijder het item en voeg een nieuw toe.")
        parser.errors.raise_if_any()
        base = {k: v for k, v in current.items() if k in spec.fields and v is not None}
        doc = merge_patch(base, doc)
    item = getattr(parser, spec.parser)(doc, kind)
    parser.errors.raise_if_any()
    if current is not None:
        item["id"] = current["id"]
    return item


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1].split("[", 1)[0] or "body"
