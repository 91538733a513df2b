"""Which queries the read-only SPARQL endpoints run, decided on the parsed query, never on its text.

The query is parsed with rdflib's SPARQL 1.1 parser and translated to algebra; a query whose parse
tree or algebra holds a SERVICE pattern is refused, whatever its spelling (after a `.`, in comments,
as `\\u0053ERVICE`, SILENT, a variable endpoint, inside EXISTS, MINUS, OPTIONAL or a subquery).
Codepoint escapes are expanded first, as the SPARQL grammar prescribes, and the engine is given that
expanded text: the engine and this check read exactly the same query, so no escape can mean one
thing here and another there. What rdflib cannot parse is refused (fail closed); updates are told
apart from syntax errors by parsing them as an update.

The parser is pure Python and can take seconds on a hostile query, so this runs in the query worker
processes, within the query's deadline (app/store/query_workers.py), never in a web thread.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import expandUnicodeEscapes, parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT", "DescribeQuery": "DESCRIBE"}
SERVICE = "ServiceGraphPattern"
# Deeply nested queries recurse deeply in the parser; the worker gives it a big thread stack.
RECURSION_LIMIT = 100_000
# Groups and brackets deeper than this are refused before any parser or engine sees them: the Oxigraph
# server's parser overflows its stack (and the server process aborts) at about 1,000 nested groups.
MAX_NESTING = 100


class QueryRefused(Exception):
    """A query this endpoint does not run; status, slug, title and a Dutch detail for problem+json."""

    def __init__(self, status: int, slug: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail


@dataclass(frozen=True)
class CheckedQuery:
    kind: str  # SELECT | ASK | CONSTRUCT | DESCRIBE; "" when not parsed (`unparsed`)
    text: str  # the query with its codepoint escapes expanded: what the engine must run


def syntax_error(detail: str) -> QueryRefused:
    return QueryRefused(400, "sparql-syntax", "Ongeldige SPARQL", detail)


def check(query: str) -> CheckedQuery:
    """The query form and the text to run, or QueryRefused."""
    try:
        text = expandUnicodeEscapes(query)
        text.encode("utf-8")
    except (ValueError, UnicodeError):
        raise syntax_error("De query bevat een ongeldige \\u-escape of een ongeldig teken.") from None
    if not re.sub(r"#[^\n\r]*", "", text).strip():  # empty (or only comments) parses as an (empty) update
        raise syntax_error("De query is leeg: geef een SELECT-, ASK-, CONSTRUCT- of DESCRIBE-query.")
    _check_nesting(text)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    try:
        parsed = parseQuery(text)
    except ParseBaseException as exc:
        if _is_update(text):
            raise QueryRefused(400, "sparql-alleen-lezen", "Alleen-lezen",
                               "Dit SPARQL-eindpunt is alleen-lezen: updates zijn niet toegelaten.") from None
        if text[exc.loc:exc.loc + 7].upper() == "SERVICE":
            # rdflib 7.6 fails on some SERVICE clauses (it re-scans the query for the SERVICE text and
            # mistakes a '#' inside an earlier IRI for a comment); the parser stopped at a SERVICE keyword
            raise _service_refused() from None
        raise syntax_error(f"De query is geen geldige SPARQL 1.1-query (regel {exc.lineno}, kolom {exc.col}). "
                           "Dit eindpunt aanvaardt SELECT, ASK, CONSTRUCT en DESCRIBE.") from None
    except RecursionError:
        raise _too_complex() from None
    names = _names(parsed)
    if "DatasetClause" in names:
        raise QueryRefused(400, "sparql-dataset", "FROM niet ondersteund",
                           "Dit eindpunt bepaalt zelf welke grafen een query leest; FROM en FROM NAMED worden niet "
                           "ondersteund (ze zouden genegeerd worden). Lees één graaf met GRAPH <…> { … }.")
    try:
        algebra = translateQuery(parsed).algebra
    except RecursionError:
        raise _too_complex() from None
    except Exception as exc:  # rdflib refuses what the SPARQL 1.1 algebra does not allow (e.g. scope errors)
        prefix = re.search(r"Unknown namespace prefix : (\S+)", str(exc))
        if prefix:
            raise syntax_error(f"Het prefix '{prefix[1]}' is niet gedeclareerd: zet 'PREFIX {prefix[1]}: <…>' "
                               "vóór de query.") from None
        raise syntax_error("De query is geen geldige SPARQL 1.1-query (de algebra kon niet opgebouwd worden).") \
            from None
    if SERVICE in names or SERVICE in _names(algebra):
        raise _service_refused()
    if algebra.name not in FORMS:  # cannot happen for a parsed query, but never guess
        raise syntax_error("De query is geen SELECT, ASK, CONSTRUCT of DESCRIBE.")
    return CheckedQuery(FORMS[algebra.name], text)


# Text that sends a query through the full parse: SERVICE (and codepoint escapes, which could spell it)
# for safety; FROM, which the pinned dataset would silently override, so that it is refused instead;
# RDF 1.2 triple terms (`<<`, TRIPLE(), annotations `{|`) so that they stay refused as the SPARQL 1.1
# parse refuses them, the same on both engines.
PARSE_MARKERS = ("service", "\\u", "<<", "triple", "{|", "from")


def unparsed(query: str) -> CheckedQuery | None:
    """The query to forward as it is, without the (slow, pure-Python) parse, when its text provably
    cannot hold a SERVICE pattern; None when it must be parsed and checked (`check`).

    A SERVICE pattern needs the keyword SERVICE (ASCII, any case) in the text the engine reads. With
    no codepoint escape in the query (no `\\u`/`\\U`), that text is the query itself, character for
    character, so a query whose lower-cased text nowhere contains "service" — not even in an IRI, a
    string or a comment — has none, whatever its syntax. This only ever decides to skip the parse;
    every query that might call out is parsed and refused on its algebra as before. Updates need no
    parse either: the store server's query endpoint does not run them (its 400 is reworded by the
    caller after a full check). The form is not known here (kind "").
    """
    lowered = query.lower()
    if any(marker in lowered for marker in PARSE_MARKERS):
        return None
    _check_nesting(query)
    try:
        query.encode("utf-8")
    except UnicodeError:  # a lone surrogate: let check() word the refusal
        return None
    return CheckedQuery("", query)


# What can hold a bracket or an operator that is none: strings (long ones first), IRIs, comments and prefixed
# names ('ex:a-b'); then one bracket, a chain keyword or an operator.
_TOKENS = re.compile("|".join((
    r'"""(?:[^"\\]|\\.|"(?!""))*"""', r"'''(?:[^'\\]|\\.|'(?!''))*'''",  # long strings
    r'"(?:[^"\\\n\r]|\\.)*"', r"'(?:[^'\\\n\r]|\\.)*'",  # short strings
    r'<[^<>"{}|^`\\\x00-\x20]*>', r"#[^\n\r]*",
    r"[A-Za-z_][\w.-]*:[\w.:-]*|\?\w+|\$\w+|\^\^|@[A-Za-z]+(?:-[A-Za-z0-9]+)*",  # names, datatypes, language tags
    r"[{(\[]", r"[})\]]", r"(?i:\b(?:optional|minus|union)\b)", r"\|\||&&|[-+*/|^!]")))
# Chains without brackets recurse as deeply in the Oxigraph server's parser and evaluator, whose stack
# overflows (the server process aborts) at 1,000-2,000 operators in one expression ('1+1+…'), 3,000
# OPTIONALs or groups in a row: more than this many groups, chain keywords and operators in one query
# are refused.
MAX_LINKS = 500


def _check_nesting(text: str) -> None:
    """Refuse a query whose groups, brackets and parentheses nest deeper than MAX_NESTING, or that links more
    than MAX_LINKS groups, OPTIONAL/MINUS/UNION and operators (counted outside strings, IRIs, comments and
    names; an unterminated string counts what it holds, which only errs towards refusing)."""
    depth = links = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token[0] in "\"'<#?$@" or ":" in token or token == "^^":
            continue
        if token == "{" or token not in "{}()[]":
            links += 1
            if links > MAX_LINKS:
                raise QueryRefused(400, "sparql-te-complex", "Query te complex",
                                   f"De query telt meer dan {MAX_LINKS} groepen, OPTIONAL-, MINUS- of UNION-delen en "
                                   "operatoren; vereenvoudig de query (bv. met VALUES of IN in plaats van een lange "
                                   "keten van || of UNION).")
        if token in "{([":
            depth += 1
            if depth > MAX_NESTING:
                raise QueryRefused(400, "sparql-te-diep", "Query te diep genest",
                                   f"De query nest groepen of haakjes dieper dan {MAX_NESTING} niveaus; "
                                   "vereenvoudig de query.")
        elif token in "})]":
            depth = max(0, depth - 1)


def _service_refused() -> QueryRefused:
    return QueryRefused(400, "sparql-service", "SERVICE niet toegelaten",
                        "Federatie met SERVICE is niet toegelaten: dit eindpunt maakt geen uitgaande verbindingen.")


def _too_complex() -> QueryRefused:
    return QueryRefused(400, "sparql-te-complex", "Query te complex",
                        "De query is te diep genest om te controleren; vereenvoudig de query.")


def _is_update(text: str) -> bool:
    try:
        parseUpdate(text)
    except Exception:  # anything but a clean update parse means: not an update
        return False
    return True


def _names(root: object) -> set[str]:
    return set(_walk(root))


def _walk(root: object) -> Iterator[str]:
    """The name of every node in a parse tree or algebra, without recursion (trees can be deep)."""
    stack, seen = [root], set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, CompValue):
            yield item.name
            stack.extend(dict.values(item))
        elif isinstance(item, (list, tuple, set, frozenset, ParseResults)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
