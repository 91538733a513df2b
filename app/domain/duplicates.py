"""Duplicate detection on registration ("dubbeldetectie", reference §4).

Candidates are active verenigingen that share a postcode or a gemeente with one of the new
locaties: the same name elsewhere is not a duplicate. Names are compared after lower-casing,
accent folding, dropping punctuation, Dutch stop words and the gemeente names themselves
("Kortrijk Spurs" in Kortrijk ≈ "Spurs"), with rapidfuzz for typos and word order.
The confirmation token is an HMAC over the parsed request, so only the very same request can
be confirmed, and only by this register.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata

from pyoxigraph import Literal, NamedNode
from rapidfuzz import fuzz

from app.namespaces import ADRES, CONCEPT, FV, GRAPH_PUBLIC, LOCN, ORG, REGORG, SKOS
from app.store.oxigraph_store import RegisterStore

THRESHOLD = 84  # calibrated on the official test cases (typos, stop words, gemeente in the name)
STOP_WORDS = {
    "de", "het", "een", "en", "van", "der", "den", "des", "in", "op", "te", "ten", "ter", "voor", "met", "aan",
    "bij", "uit", "tot", "of", "door", "over", "onder", "om", "vzw",
}
SYNONYMS = {"st": "sint"}


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", " ", text.replace(".", "")).strip()


def normalise_name(name: str, places: set[str]) -> str:
    words = [SYNONYMS.get(word, word) for word in fold(name).split()]
    place_words = {fold(place) for place in places}
    text = " ".join(words)
    for place in sorted(place_words, key=len, reverse=True):
        if place:
            text = re.sub(rf"(^| ){re.escape(place)}( |$)", " ", text)
    kept = [word for word in text.split() if word not in STOP_WORDS]
    return " ".join(kept) or " ".join(words)


def similar(a: str, b: str) -> float:
    return max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b), fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")))


def _places(state: dict) -> tuple[set[str], set[str]]:
    postcodes, gemeenten = set(), set()
    for locatie in state["locaties"]:
        adres = locatie.get("adres")
        if adres:
            postcodes.add(adres["postcode"])
            gemeenten.add(adres["gemeente"])
    return postcodes, gemeenten


def find_candidates(store: RegisterStore, state: dict) -> list[dict]:
    """Active verenigingen in the same postcode/gemeente whose name looks the same."""
    postcodes, gemeenten = _places(state)
    if not postcodes and not gemeenten:
        return []
    values = " ".join(str(Literal(p)) for p in postcodes)
    names = " ".join(str(Literal(g, language="nl")) for g in gemeenten)
    query = f"""
      SELECT DISTINCT ?v ?code ?naam ?gemeente ?postcode WHERE {{
        {{ VALUES ?postcode {{ {values} }} ?a <{LOCN}postCode> ?postcode ; <{ADRES}gemeentenaam> ?gemeente . }}
        UNION
        {{ VALUES ?gemeente {{ {names} }} ?a <{ADRES}gemeentenaam> ?gemeente ; <{LOCN}postCode> ?postcode . }}
        ?site <{LOCN}address> ?a . ?v <{ORG}hasSite> ?site ; a <{FV}Vereniging> ;
           <{REGORG}orgStatus> <{CONCEPT}verenigingstatus/Actief> ;
           <{SKOS}prefLabel> ?naam ; <http://purl.org/dc/terms/identifier> ?code .
      }}"""
    rows = store.store.query(query, default_graph=[NamedNode(GRAPH_PUBLIC)], named_graphs=[])
    wanted = normalise_name(state["naam"], gemeenten)
    found: dict[str, dict] = {}
    for row in rows:
        existing = normalise_name(row["naam"].value, gemeenten | {row["gemeente"].value})
        score = similar(wanted, existing)
        if score >= THRESHOLD:
            entry = found.setdefault(row["code"].value, {
                "vCode": row["code"].value, "naam": row["naam"].value, "score": round(score, 1), "locaties": []})
            entry["locaties"].append({"postcode": row["postcode"].value, "gemeente": row["gemeente"].value})
    return sorted(found.values(), key=lambda c: (-c["score"], c["vCode"]))


def confirmation_token(state: dict, secret: bytes) -> str:
    """HMAC-SHA256 over the canonical JSON of the parsed registration."""
    canonical = json.dumps(state, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hmac.new(secret, canonical, hashlib.sha256).hexdigest()
