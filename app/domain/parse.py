"""Turn the compact JSON(-LD) body of a command into clean, typed field values.

Parsing checks each field on its own (type, format, code list membership) and collects
every problem with its path; invariants that span fields or entities live in rules.py so
they also hold for states reached by later changes.
"""

from __future__ import annotations

from typing import Any

from app.domain import codelists, model
from app.domain.errors import FieldErrors
from app.domain.model import MODEL, REGISTERABLE_TYPES
from app.domain.vcode import parse_vcode
from app.validation import characters, formats

BASIS_FIELDS = set(MODEL.basis_keys())
KBO_OWNED = set(MODEL.kbo_owned())
JSONLD_KEYWORDS = {"@context", "@type", "type"}
ACCEPTED_TYPES = {"Vereniging", "FeitelijkeVereniging", "fv:Vereniging", "fv:FeitelijkeVereniging"}
ADRES_REGISTER = "https://data.vlaanderen.be/id/adres/"
KINDS = MODEL.by_kind
# format checks a field can name (model.Field.check): function, error code
FORMAT_CHECKS = {"email": (formats.email, "formaat"), "telephone": (formats.telephone, "formaat"),
                 "web_address": (formats.web_address, "formaat"), "insz": (formats.insz, "insz"),
                 "iban": (formats.belgian_iban, "iban"), "postcode": (formats.postcode, "formaat"),
                 "huisnummer": (formats.huisnummer, "formaat")}


class Parser:
    """Parses one body; `errors` collects every problem found."""

    def __init__(self, kbo_source: bool = False, description: model.Model = MODEL) -> None:
        self.errors = FieldErrors()
        self.kbo_source = kbo_source  # data from the KBO itself may use KBO-only values
        self.model = description

    # -- generic values -------------------------------------------------------------------
    def unknown_keys(self, obj: dict, allowed: set[str], path: str) -> None:
        for key in obj:
            if key in allowed or key in JSONLD_KEYWORDS:
                continue
            where = f"{path}.{key}" if path else key
            if key in self.model.read_only and not path:
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
        wrong = characters.forbidden(value)  # also for an import, whose text never passed json_body
        if wrong:
            self.errors.add(path, wrong[0], f"'{_leaf(path)}' bevat {wrong[1]}.")
            return None
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

    # -- fields of the description (model.py) ----------------------------------------------------
    def fields(self, fields: tuple[model.Field, ...], doc: dict, path: str) -> dict:
        """Every input field of `fields` from `doc` (absent ones as None / their default)."""
        return {f.key: self.value(f, doc.get(f.key), _join(path, f.key)) for f in fields
                if f.writable and not f.derived}

    def value(self, f: model.Field, value: Any, path: str) -> Any:
        if f.check and hasattr(self, f.check):  # a check that reads the raw value itself
            return getattr(self, f.check)(value, path)
        if f.datatype == model.OBJECT:
            return self.object(f, value, path)
        if f.datatype == model.CODE:
            if f.many:
                return self.codes(value, path, f.codelist, f.message or _unknown(f), f.duplicate)
            return self.code(value, path, f.codelist, f.message or _unknown(f))
        if f.datatype in (model.DATE, model.DAY):
            return self.date(value, path)
        if f.datatype == model.BOOLEAN:
            return self.boolean(value, path) if value is not None else f.default or False
        if f.datatype == model.INTEGER:
            return self.age(value, path, f.default)
        text = self.text(value, path, required=f.required, max_len=f.max_len, letters=f.letters)
        return self.format(f.check, text, path) if text and f.check else text

    def format(self, check: str, text: str, path: str) -> str | None:
        function, code = FORMAT_CHECKS[check]
        return self.checked(function, text, path, code)

    def checked(self, check: Any, value: str, path: str, code: str = "formaat") -> str | None:
        """`check(value)` from formats.py, its ValueError recorded at `path`."""
        try:
            return check(value)
        except ValueError as exc:
            self.errors.add(path, code, str(exc))
            return None

    def object(self, f: model.Field, value: Any, path: str) -> dict | None:
        defaults = {sub.key: sub.default for sub in f.fields if sub.default is not None}
        if value is None:
            return defaults or None
        if not isinstance(value, dict):
            self.errors.add(path, "geen-object", f"'{f.key}' moet een object zijn.")
            return defaults or None
        self.unknown_keys(value, {sub.key for sub in f.fields}, path)
        return {k: v for k, v in self.fields(f.fields, value, path).items() if v is not None}

    def item(self, part: model.Part, doc: dict, path: str) -> dict:
        """One item of `part`: its fields, then the part's cross-field checks (a method named part.parser)."""
        self.unknown_keys(doc, {f.key for f in part.input_fields}, path)
        item = self.fields(part.fields, doc, path)
        if part.parser:
            getattr(self, part.parser)(item, doc, path)
        for f in part.fields:  # what commands set (status, schorsing, validaties): empty, as read back
            if not (f.writable or f.derived or f.omit_absent or f.key in item):
                item[f.key] = [] if f.many else f.default
        return item

    # -- checks the description names -----------------------------------------------------------
    def adres_id(self, value: Any, path: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.startswith(ADRES_REGISTER) \
                or not formats.is_digits(value[len(ADRES_REGISTER):]):
            self.errors.add(path, "adresid-formaat",
                            f"Een adresId moet een adres uit het Adressenregister zijn ({ADRES_REGISTER}<id>).")
            return None
        return value

    def vcode(self, value: Any, path: str) -> str | None:
        code = parse_vcode(value) if isinstance(value, str) else None
        if code is None:
            self.errors.add(path, "vcode",
                            f"'{_leaf(path)}' moet de V-code van een vereniging zijn (formaat V0000000).")
        return code

    def digits(self, value: Any, path: str) -> str | None:
        text = self.text(value, path, required=True)
        if text and not formats.is_digits(text):
            self.errors.add(path, "ipdc-formaat", "Een IPDC-productnummer bestaat uit cijfers.")
            return None
        return text

    def titularissen(self, value: Any, path: str) -> list[str]:
        titularissen: list[str] = []
        if value is not None and not isinstance(value, list):
            self.errors.add(path, "geen-lijst", "'titularissen' moet een lijst van namen zijn.")
            return titularissen
        if not value:
            self.errors.add(path, "verplicht", "Er is minstens één titularis nodig.")
            return titularissen
        for index, holder in enumerate(value):
            text = self.text(holder, f"{path}[{index}]", required=True, max_len=model.TEXT_MAX)
            if text and text.casefold() in {t.casefold() for t in titularissen}:
                self.errors.add(f"{path}[{index}]", "dubbele-waarde", "Elke titularis mag slechts één keer voorkomen.")
            elif text:
                titularissen.append(text)
        return sorted(titularissen)

    # -- cross-field checks per part (model.Part.parser) --------------------------------------------
    def locatie(self, item: dict, doc: dict, path: str) -> None:
        if item["locatietype"] == "MaatschappelijkeZetelVolgensKBO" and not self.kbo_source:
            self.errors.add(f"{path}.locatietype", "kbo-locatietype",
                            "Het locatietype 'Maatschappelijke zetel volgens KBO' kan enkel uit de KBO komen.")
        if (doc.get("adres") is not None) == (doc.get("adresId") is not None):
            self.errors.add(path, "adres-of-adresid", "'Locatie' moet of een adres of een adresId bevatten.")

    def contactgegeven(self, item: dict, doc: dict, path: str) -> None:
        if item["contactgegeventype"] and item["waarde"]:
            item["waarde"] = self.contact_value(item["contactgegeventype"], item["waarde"], f"{path}.waarde")

    def contact_value(self, kind: str, value: str, path: str) -> str | None:
        check = {"E-mail": "email", "Telefoon": "telephone", "Website": "web_address", "SocialMedia": "web_address"}
        return self.format(check[kind], value, path)

    def basis(self, doc: dict, state: dict) -> None:
        """Parse the basisgegevens present in `doc` into `state` (registration and PATCH)."""
        for key in self.model.basis_keys():
            if key in doc:
                state[key] = self.value(self.model.inputs[key], doc[key], key)

    def collection(self, doc: dict, kind: str) -> list[dict]:
        part = self.model.part(kind)
        return [self.item(part, item, path) for path, item in self.objects(doc.get(kind), kind)]


def _require_object(parser: Parser, doc: Any, what: str) -> dict:
    if not isinstance(doc, dict):
        parser.errors.add("", "geen-object", f"De body moet één JSON-object ({what}) zijn.")
        parser.errors.raise_if_any()
    return doc


def empty_state(verenigingstype: str, description: model.Model = MODEL) -> dict:
    """A new vereniging before its fields are parsed: every described field empty (or its default)."""
    state: dict[str, Any] = {f.key: [] if f.many else f.default for f in description.fields if not f.derived}
    for f in description.fields:
        if f.datatype == model.OBJECT and f.always:
            state[f.key] = {sub.key: sub.default for sub in f.fields}
    state.update({"verenigingstype": verenigingstype, "status": "Actief", "kboNummer": None, "sleutels": []})
    state.update({part.kind: [] for part in description.parts})
    return state


def _done(parser: Parser, collect: list | None) -> None:
    """Raise every field error, or (with `collect`) hand them over and let the caller go on."""
    if collect is None:
        parser.errors.raise_if_any()
    else:
        collect.extend(parser.errors.items)


def parse_registration(doc: Any, description: model.Model = MODEL, collect: list | None = None) -> dict:
    """Validate a registration body (FV/VZER) field by field and return the new vereniging's state.

    Raises errors.Invalid listing every field error; with `collect`, the errors are added to it and
    the state is returned anyway, with the fields in error left empty (the import reports a row's
    other, independent problems in the same round).
    """
    parser = Parser(description=description)
    doc = _require_object(parser, doc, "één vereniging")
    parser.unknown_keys(doc, description.registration_fields(kbo=False), "")
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
    state = empty_state(verenigingstype, description)
    parser.basis({"naam": doc.get("naam"), **doc}, state)
    for part in description.parts:
        if part.registration:
            state[part.kind] = parser.collection(doc, part.kind)
    _done(parser, collect)
    return state


def parse_kbo_registration(doc: Any, description: model.Model = MODEL, collect: list | None = None) -> dict:
    """A vereniging with legal personality, identified by its KBO number.

    Until the KBO synchronisation feeds these fields, the initiator supplies the KBO data
    (naam, rechtsvorm, …) once; afterwards those fields are read-only for initiators.
    """
    parser = Parser(description=description)
    doc = _require_object(parser, doc, "één KBO-vereniging")
    parser.unknown_keys(doc, description.registration_fields(kbo=True), "")
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
    state = empty_state(kind or "VZW", description)
    state["kboNummer"] = kbo
    parser.basis({"naam": doc.get("naam"), **doc}, state)
    for part in description.parts:
        if part.kbo_registration:
            state[part.kind] = parser.collection(doc, part.kind)
    _done(parser, collect)
    return state


def parse_import_row(doc: Any, *, kbo: bool, owner: str, key: str, collect: list | None = None) -> dict:
    """A spreadsheet row: a registration body, plus the bestuur's own key for the vereniging (if any).
    With `collect`, field errors are collected there and the (partial) state is still returned."""
    state = parse_kbo_registration(doc, collect=collect) if kbo else parse_registration(doc, collect=collect)
    if key:
        state["sleutels"] = [{"bron": owner, "waarde": key}]
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


def parse_stop(doc: Any) -> str:
    """The einddatum of a stop request {"einddatum": "yyyy-MM-dd"}."""
    parser = Parser()
    doc = _require_object(parser, doc, "{\"einddatum\": \"yyyy-MM-dd\"}")
    parser.unknown_keys(doc, {"einddatum"}, "")
    end = parser.date(doc.get("einddatum"), "einddatum")
    if end is None and "einddatum" not in [e.path for e in parser.errors.items]:
        parser.errors.add("einddatum", "verplicht", "'einddatum' is verplicht.")
    parser.errors.raise_if_any()
    return end


def parse_item(kind: str, doc: Any, current: dict | None = None) -> dict:
    """One sub-resource item: a new one (POST) or `current` with a merge patch applied (PATCH)."""
    parser = Parser(kbo_source=bool(current and current.get("bron") == "KBO"))
    spec = MODEL.part(kind)
    doc = _require_object(parser, doc, "één item")
    if current is not None:
        if not doc:
            parser.errors.add("", "leeg", "Een request mag niet leeg zijn.")
        for key in doc:
            if key in spec.immutable and doc[key] != current.get(key):
                parser.errors.add(key, "onwijzigbaar",
                                  f"'{key}' kan niet gewijzigd worden; verwijder het item en voeg een nieuw toe.")
        parser.errors.raise_if_any()
        base = {k: v for k, v in current.items() if k in spec.by_key and spec.by_key[k].writable and v is not None}
        doc = merge_patch(base, doc)
    item = parser.item(spec, doc, kind)
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


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _unknown(f: model.Field) -> str:
    return f"Het opgegeven {f.key} is niet gekend: \"{{value}}\"."


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1].split("[", 1)[0] or "body"
