"""Generate data/demo/verenigingen.json: 64 fictional but realistic Flemish associations.

    python data/demo/generate_demo.py          # (re)writes the file, deterministically, then checks it
    python data/demo/generate_demo.py --check  # only checks the committed file against the demo rules

Each object is a registration body for the write API (POST /verenigingen). Everything is invented:
association names, people (INSZ with a valid checksum), e-mail domains and phone numbers. Addresses use
real postcodes and gemeente names from data/postcodes.csv, in the five Flemish provinces.
"""

from __future__ import annotations

import csv
import difflib
import json
import random
import re
import sys
import unicodedata
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent
TARGET = HERE / "verenigingen.json"
COUNT = 64
SEED = 20261122
CODES = ["BIAG", "BWWC", "DINT", "GEWE", "HOSP", "INOS", "JGDW", "KLDU", "KECU", "LAVI", "LEBE", "MADP", "MEDG",
         "MROW", "NMDW", "VORM", "SOVO", "SPRT", "ONWE", "TOER", "WESE"]
FLEMISH_PROVINCES = {"BE21", "BE22", "BE23", "BE24", "BE25"}
# postcode → telephone zone; the gemeente name and code come from data/postcodes.csv
PLACES = {"2000": "3", "2800": "15", "2300": "14", "2500": "3", "2440": "14",  # Antwerpen
          "3500": "11", "3600": "89", "3700": "12", "3580": "11", "3920": "11",  # Limburg
          "9000": "9", "9300": "53", "9100": "3", "9700": "55", "9200": "52", "9810": "9",  # Oost-Vlaanderen
          "3000": "16", "1800": "2", "1500": "2", "3300": "16", "3200": "16",  # Vlaams-Brabant
          "8000": "50", "8500": "56", "8400": "59", "8800": "51", "8900": "57"}  # West-Vlaanderen
# name ({n} = a nickname, {g} = the gemeente), korte naam, description, hoofdactiviteiten, doelgroep, founded, venue
KINDS = [
    ("Volleybalclub {n}", "VC {n}", "Recreatieve en competitieve volleybal voor jongeren en volwassenen.",
     ["SPRT"], (10, 65), (1965, 2015), "Sporthal"),
    ("Chiro {n}", None, "Zondagnamiddagwerking en een zomerkamp voor kinderen en tieners.", ["JGDW"], (6, 18),
     (1950, 2000), "Chirolokaal"),
    ("Scouts en Gidsen {n}", "Scouts {n}", "Scoutsgroep met takken van kapoenen tot jins, en een jaarlijks kamp.",
     ["JGDW", "NMDW"], (6, 21), (1935, 1995), "Scoutslokaal"),
    ("Toneelkring {n}", None, "Amateurtoneelgezelschap met twee producties per seizoen.", ["KECU", "HOSP"], (14, 99),
     (1920, 1990), "Parochiezaal"),
    ("Koninklijke Harmonie {n}", "Harmonie {n}", "Blaasorkest met een eigen muziekopleiding voor beginners.",
     ["KECU", "VORM"], (8, 99), (1880, 1950), "Muziekzaal"),
    ("Buurtcomité {n}", None, "Organiseert het buurtfeest en komt op voor een leefbare, propere wijk.", ["BWWC"],
     None, (1975, 2020), None),
    ("Imkersbond {g}", None, "Imkers delen kennis over bijen, bestuiving en biodiversiteit.", ["LAVI", "NMDW"],
     (16, 99), (1900, 1990), "Bijenstand"),
    ("Seniorenclub {n}", None, "Uitstappen, voordrachten en een wekelijkse koffietafel voor 55-plussers.",
     ["SOVO", "GEWE"], (55, 150), (1960, 2010), "Ontmoetingscentrum"),
    ("Repair Café {g}", None, "Samen herstellen in plaats van weggooien, elke eerste zaterdag van de maand.",
     ["KLDU", "WESE"], None, (2013, 2023), "Buurthuis"),
    ("Fietsersbond {g}", None, "Komt op voor veilige fietsroutes en organiseert fietslessen.", ["MROW", "BIAG"],
     None, (1990, 2020), None),
    ("Wereldwinkel {g}", None, "Eerlijke handel en sensibilisering rond ontwikkelingssamenwerking.",
     ["INOS", "WESE"], None, (1975, 2005), "Winkel"),
    ("Heemkundige Kring {n}", "HK {n}", "Onderzoekt en ontsluit de lokale geschiedenis en het erfgoed.", ["KECU"],
     (16, 150), (1930, 1990), "Heemmuseum"),
    ("Digicafé {g}", None, "Digitale hulp en computerlessen voor wie de digitale trein dreigt te missen.",
     ["MEDG", "VORM"], (18, 150), (2015, 2023), "Bibliotheek"),
    ("Volkssterrenwacht {n}", None, "Waarnemingsavonden met een eigen telescoop en lezingen over sterrenkunde.",
     ["ONWE", "HOSP"], (10, 150), (1960, 2010), "Sterrenwacht"),
    ("Wandelclub {n}", "WSV {n}", "Georganiseerde wandeltochten en een jaarlijkse wandelzoektocht.",
     ["TOER", "SPRT"], None, (1970, 2010), "Clublokaal"),
    ("Parochiale Werken {n}", None, "Ondersteunt de parochiegemeenschap en beheert de parochiezaal.",
     ["LEBE", "MADP"], None, (1920, 1980), "Parochiezaal"),
    ("Ontmoetingshuis {n}", None, "Ontmoeting, taaloefening en begeleiding voor nieuwkomers.", ["DINT", "SOVO"],
     (16, 150), (2000, 2022), "Ontmoetingshuis"),
    ("Welzijnsschakel {g}", None, "Vrijwilligers en mensen in armoede werken samen tegen uitsluiting.",
     ["GEWE", "MADP"], None, (1995, 2020), "Buurthuis"),
    ("Hondenschool {n}", None, "Gehoorzaamheidstraining, puppycursussen en agility.", ["HOSP", "NMDW"], (12, 99),
     (1975, 2015), "Trainingsterrein"),
    ("Schaakclub {n}", "SK {n}", "Clubavonden, interclubcompetitie en jeugdschaak.", ["HOSP", "VORM"], (7, 99),
     (1930, 2000), "Clublokaal"),
    ("Landelijke Gilde {g}", None, "Vereniging voor het platteland, de landbouw en de dorpsgemeenschap.",
     ["LAVI", "SOVO"], (18, 150), (1920, 1970), "Feestzaal"),
    ("Fablab {g}", None, "Maakplaats met 3D-printers, een lasersnijder en workshops.", ["ONWE", "MEDG"], (12, 150),
     (2012, 2023), "Maakplaats"),
    ("Actiegroep Leefbaar {g}", None, "Burgers die ijveren voor minder doorgaand verkeer en meer groen.",
     ["BIAG", "MROW"], None, (2005, 2023), None),
    ("Vrienden van het Woonzorgcentrum {n}", None, "Vrijwilligers die activiteiten voor de bewoners organiseren.",
     ["GEWE", "SOVO"], None, (1985, 2015), "Woonzorgcentrum"),
    ("Zwemclub {n}", "ZC {n}", "Zwemlessen, wedstrijdzwemmen en aquagym.", ["SPRT", "GEWE"], (5, 80), (1955, 2005),
     "Zwembad"),
    ("Jeugdhuis {n}", "JH {n}", "Jeugdhuis met concerten, een bar en ruimte voor eigen initiatief.",
     ["JGDW", "KECU"], (15, 30), (1970, 2010), "Jeugdhuis"),
    ("Volkstuinvereniging {n}", None, "Beheert de volkstuinen en organiseert cursussen ecologisch tuinieren.",
     ["LAVI", "KLDU"], None, (1950, 2015), "Volkstuinpark"),
    ("Natuurwerkgroep {n}", None, "Beheer van kleine natuurgebieden, vogeltellingen en natuurwandelingen.",
     ["NMDW", "KLDU"], None, (1975, 2015), None),
    ("Wooncoöperatie {n}", None, "Bewoners die samen betaalbaar en duurzaam wonen organiseren.", ["MROW", "WESE"],
     (18, 150), (2010, 2023), None),
    ("Reisclub {n}", None, "Cultuurreizen en daguitstappen voor leden.", ["TOER", "SOVO"], (18, 150), (1980, 2015),
     None),
    ("Vluchtelingenwerkgroep {g}", None, "Helpt nieuwkomers met huisvesting, taal en administratie.",
     ["DINT", "MADP"], None, (1995, 2022), "Ontmoetingsruimte"),
    ("Kringloopatelier {n}", None, "Sociale tewerkstelling rond herstel en verkoop van tweedehands meubels.",
     ["WESE", "KLDU"], None, (2000, 2020), "Atelier"),
    ("Film- en Fotoclub {n}", None, "Fotowedstrijden, workshops beeldbewerking en een jaarlijkse tentoonstelling.",
     ["MEDG", "KECU"], (14, 150), (1955, 2010), "Clublokaal"),
    ("Vrijzinnige Kring {n}", None, "Vrijzinnig humanistische ontmoeting, debat en lentefeesten.",
     ["LEBE", "MADP"], None, (1970, 2010), "Ontmoetingscentrum"),
    ("Solidariteitsgroep {n}", None, "Steunt een partnerschool in Kenia met een jaarlijkse solidariteitsmarkt.",
     ["INOS", "DINT"], None, (1985, 2020), None),
    ("Wielertoeristenclub {n}", "WTC {n}", "Wekelijkse ritten op de weg en een jaarlijkse toertocht.",
     ["SPRT", "TOER"], (16, 80), (1970, 2015), "Clublokaal"),
    ("Carnavalsvereniging {n}", None, "Bouwt elk jaar een praalwagen voor de carnavalsstoet.", ["HOSP", "KECU"],
     (12, 99), (1960, 2010), "Bouwloods"),
    ("Huiswerkklas {n}", None, "Vrijwilligers begeleiden lagereschoolkinderen bij hun huiswerk.",
     ["VORM", "DINT"], (6, 12), (2005, 2022), "Schoolgebouw"),
    ("Dorpsraad {n}", None, "Overlegplatform van bewoners, verenigingen en handelaars in de deelgemeente.",
     ["BWWC", "MADP"], None, (1995, 2022), None),
    ("Energiecoöperatie {n}", None, "Burgers investeren samen in zonnepanelen en een windturbine.",
     ["KLDU", "ONWE"], (18, 150), (2010, 2023), None),
    ("Boerenmarkt {g}", None, "Wekelijkse markt van lokale boeren en korte-ketenproducenten.", ["LAVI", "WESE"],
     None, (2008, 2023), "Marktplein"),
    ("Petanqueclub {n}", None, "Petanque op de eigen terreinen, zomer en winter.", ["SPRT", "HOSP"], (12, 99),
     (1975, 2015), "Petanqueterreinen"),
    ("Gezinsbond {g}", None, "Kinderoppasdienst, tweedehandsbeurzen en voordeel voor gezinnen.", ["GEWE", "BWWC"],
     None, (1925, 1975), None),
    ("Taalgroep {n}", None, "Oefengroepen Nederlands voor anderstaligen.", ["DINT", "VORM"], (16, 150),
     (2005, 2022), "Bibliotheek"),
    ("Mediawijs {g}", None, "Workshops over nepnieuws, privacy en veilig internetgebruik.", ["MEDG", "BIAG"],
     (12, 150), (2016, 2023), None),
    ("Erfgoedkring {n}", None, "Beheert een kapel en een oude windmolen en leidt bezoekers rond.",
     ["KECU", "TOER"], None, (1970, 2010), "Molen"),
    ("Missiegroep {n}", None, "Kerkgemeenschap die projecten in Zuid-Amerika steunt.", ["LEBE", "INOS"], None,
     (1950, 1990), "Kerk"),
    ("Buurtwerking {n}", None, "Buurtrestaurant, speelstraat en een wekelijkse buurtbabbel.", ["BWWC", "SOVO"],
     None, (1990, 2022), "Buurthuis"),
    ("Wetenschapsclub {n}", None, "Proefjes, robotica en programmeren voor nieuwsgierige kinderen.",
     ["ONWE", "JGDW"], (8, 16), (2010, 2023), "Schoolgebouw"),
    ("Bewonersgroep {n}", None, "Bewoners die meedenken over het nieuwe mobiliteitsplan en de woonuitbreiding.",
     ["MROW", "BIAG"], None, (2010, 2023), None),
]
NICKNAMES = ["De Kastanjes", "Sint-Jan", "De Toekomst", "Het Anker", "Eendracht", "De Linde", "Zonneweelde",
             "De Ster", "De Vrolijke Vrienden", "Sint-Martinus", "De Molen", "Ons Genoegen", "Vrank en Vrij",
             "De Horizon", "De Klaproos", "Het Pleintje", "De Wilgen", "Nieuw Leven", "De Brug", "Sint-Pieter",
             "Het Open Veld", "De Zwaluw", "Kerkveld", "De Boomgaard", "De Eik", "Ten Bos", "Het Lindeke",
             "De Kraai", "Ter Beke", "De Vlinder", "Groenendaal", "Sint-Anna"]
VENUE_NAMES = ["De Kouter", "Ter Linde", "Sint-Jozef", "Het Hof", "De Pastorij", "Den Engel", "De Vlasbloem",
               "Ter Meersen", "Den Akker", "De Beuk"]
STREETS = ["Kerkstraat", "Stationsstraat", "Dorpsstraat", "Schoolstraat", "Molenstraat", "Nieuwstraat", "Markt",
           "Kapelstraat", "Beekstraat", "Lindenlaan", "Kouterstraat", "Veldstraat", "Meersstraat", "Ridderstraat",
           "Begijnhofstraat", "Sportlaan", "Parklaan", "Zonnebloemstraat"]
# (voornaam, roepnaam or None, sex: M/V) — the INSZ serial is odd for men, even for women
GIVEN = [("An", None, "V"), ("Jan", None, "M"), ("Els", None, "V"), ("Tom", None, "M"), ("Sofie", None, "V"),
         ("Pieter", None, "M"), ("Lotte", None, "V"), ("Bart", None, "M"), ("Nele", None, "V"), ("Wim", None, "M"),
         ("Katrien", "Kat", "V"), ("Stijn", None, "M"), ("Ine", None, "V"), ("Koen", None, "M"),
         ("Maria", "Mieke", "V"), ("Lucas", None, "M"), ("Emma", None, "V"), ("Arne", None, "M"),
         ("Hanne", None, "V"), ("Jozef", "Jef", "M"), ("Fien", None, "V"), ("Ruben", None, "M"), ("Lies", None, "V"),
         ("Dries", None, "M"), ("Gustaaf", "Staf", "M"), ("Godelieve", "Lieve", "V"), ("Marc", None, "M"),
         ("Hilde", None, "V"), ("Franciscus", "Sus", "M"), ("Anneleen", None, "V"), ("Jonas", None, "M"),
         ("Febe", None, "V"), ("Warre", None, "M"), ("Elien", None, "V"), ("Seppe", None, "M"), ("Yasmina", None, "V"),
         ("Mohamed", None, "M"), ("Griet", None, "V"), ("Luc", None, "M"), ("Rita", None, "V")]
SURNAMES = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters", "De Smet",
            "Hermans", "Aerts", "Lambrechts", "Vermeulen", "Van Damme", "Desmet", "Verhaeghe", "Pauwels", "Claeys",
            "Vandenberghe", "Martens", "Michiels", "Smets", "Van den Broeck", "De Wilde", "Coppens", "Verstraete",
            "Declercq", "Van Hecke", "Bogaert", "Vercauteren", "Lemmens", "Vanhove", "De Backer", "El Amrani",
            "Stevens", "Cools", "Geerts", "Deprez", "Baert"]
ROLES = ["Voorzitter", "Secretaris", "Penningmeester"]
BODY_KEYS = {"verenigingstype", "naam", "korteNaam", "korteBeschrijving", "startdatum", "doelgroep",
             "hoofdactiviteiten", "werkingsgebieden", "locaties", "contactgegevens", "vertegenwoordigers"}
PERSON_KEYS = {"insz", "voornaam", "achternaam", "roepnaam", "rol", "isPrimair", "email", "telefoon", "mobiel"}


def read_csv(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())


def fold(name: str, gemeente: str) -> str:
    """Name as compared for near-duplicates: lower case, no accents/punctuation, without the gemeente name."""
    text = unicodedata.normalize("NFKD", name.lower()).replace(slug(gemeente), " ")
    text = re.sub(r"[^a-z0-9]+", " ", "".join(ch for ch in text if not unicodedata.combining(ch)))
    words = [w for w in text.split() if w not in {"de", "het", "en", "van", "ter", "ten", "den", "sint"}]
    return " ".join(words)


def similar(a: str, b: str) -> bool:
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    return max(ratio, difflib.SequenceMatcher(None, " ".join(sorted(a.split())), " ".join(sorted(b.split())))
               .ratio()) >= 0.8


def insz(rng: random.Random, used: set[str], sex: str, young: bool) -> str:
    """A fictional national register number (YYMMDDSSSCC) with a valid checksum."""
    while True:
        year = rng.randint(2000, 2007) if young else rng.randint(1945, 1999)
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        serial = rng.randrange(1 if sex == "M" else 2, 998, 2)
        base = f"{year % 100:02d}{month:02d}{day:02d}{serial:03d}"
        value = base + f"{97 - int(('2' if year >= 2000 else '') + base) % 97:02d}"
        if value not in used:
            used.add(value)
            return value


def phone(rng: random.Random, zone: str | None) -> str:
    """A valid Belgian landline in the given zone, or a mobile number (zone None), internationally formatted."""
    import phonenumbers

    while True:
        if zone is None:
            digits = f"47{rng.randint(0, 9)}" + "".join(str(rng.randint(0, 9)) for _ in range(6))
        else:
            digits = zone + str(rng.randint(2, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(7 - len(zone)))
        number = phonenumbers.parse("+32" + digits, "BE")
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def adres(rng: random.Random, postcode: str, gemeente: str, with_bus: bool = False) -> dict:
    result = {"straatnaam": rng.choice(STREETS), "huisnummer": str(rng.randint(1, 180))}
    if with_bus:
        result["busnummer"] = rng.choice(["1", "2", "A", "B", "0.1"])
    return result | {"postcode": postcode, "gemeente": gemeente, "land": "België"}


def generate() -> list[dict]:
    rng = random.Random(SEED)
    postcodes = {row["postcode"]: row for row in read_csv("postcodes.csv")}
    by_province: dict[str, list[str]] = {}
    for row in read_csv("werkingsgebieden.csv"):
        if row["niveau"] == "gemeente" and row["naam"]:
            by_province.setdefault(row["provincie"], []).append(row["code"])
    places = list(PLACES)
    rng.shuffle(places)
    kinds = rng.sample(KINDS, len(KINDS)) + rng.sample(KINDS, COUNT - len(KINDS))
    used_insz: set[str] = set()
    names: dict[str, list[str]] = {}
    domains: set[str] = set()
    out = []
    for index in range(COUNT):
        postcode = places[index % len(places)]
        zone, code, gemeente = PLACES[postcode], postcodes[postcode]["code"], postcodes[postcode]["gemeente"]
        template, short, description, activities, ages, founded, venue = kinds[index]
        while True:  # a name not (nearly) identical to another one in the same gemeente
            nickname = gemeente if rng.random() < 0.25 else rng.choice(NICKNAMES)
            naam = template.format(n=nickname, g=gemeente)
            if not any(similar(fold(naam, gemeente), fold(other, gemeente)) for other in names.get(gemeente, [])):
                break
        names.setdefault(gemeente, []).append(naam)
        korte = short.format(n=nickname, g=gemeente) if short else None
        domain = slug(korte or naam)[:24]
        domain = (domain if domain not in domains else domain[:18] + slug(gemeente)[:6]) + ".be"
        domains.add(domain)
        fv = index % 3 == 1
        body: dict = {"verenigingstype": "FV" if fv else "VZER", "naam": naam}
        if korte:
            body["korteNaam"] = korte
        if index % 7 != 6:
            body["korteBeschrijving"] = description
        if index % 9 != 8:
            body["startdatum"] = date(rng.randint(*founded), rng.randint(1, 12), rng.randint(1, 28)).isoformat()
        if ages and index % 5 != 3:
            body["doelgroep"] = {"minimumleeftijd": ages[0], "maximumleeftijd": ages[1]}
        extra = [c for c in CODES if c not in activities]
        body["hoofdactiviteiten"] = activities + ([rng.choice(extra)] if index % 6 == 0 else [])
        province = code[:4]
        choice = index % 8
        if fv and choice in (1, 4):
            body["werkingsgebieden"] = ["NVT"]
        elif choice == 2:
            body["werkingsgebieden"] = [code, province]
        elif choice == 5:
            neighbours = [c for c in by_province[province] if c != code]
            body["werkingsgebieden"] = [code] + sorted(rng.sample(neighbours, 2))
        elif choice == 7:
            body["werkingsgebieden"] = [province]
        elif choice != 3:
            body["werkingsgebieden"] = [code]

        locatie = {"locatietype": "Activiteiten", "isPrimair": index % 10 != 9}
        if venue:
            locatie["naam"] = f"{venue} {rng.choice(VENUE_NAMES)}"
        locatie["adres"] = adres(rng, postcode, gemeente, with_bus=index % 6 == 2)
        body["locaties"] = [locatie]
        if index % 4 == 1:
            body["locaties"].append({"locatietype": "Correspondentie", "isPrimair": False,
                                     "adres": adres(rng, postcode, gemeente, with_bus=index % 8 == 1)})
        elif index % 9 == 4:
            hall = f"Zaal {rng.choice(VENUE_NAMES)}"
            body["locaties"].append({"locatietype": "Activiteiten", "isPrimair": False, "naam": hall,
                                     "adres": adres(rng, postcode, gemeente)})

        contacts = [{"contactgegeventype": "E-mail", "waarde": f"info@{domain}", "beschrijving": "Algemeen",
                     "isPrimair": True}]
        if index % 5 == 2:
            contacts.append({"contactgegeventype": "E-mail", "waarde": f"secretariaat@{domain}",
                             "beschrijving": "Secretariaat", "isPrimair": False})
        if index % 3 != 2:
            contacts.append({"contactgegeventype": "Telefoon", "waarde": phone(rng, zone if index % 2 else None),
                             "isPrimair": index % 4 != 0})
        if index % 2 == 0:
            contacts.append({"contactgegeventype": "Website", "waarde": f"https://www.{domain}"})
        if index % 3 == 0:
            site = "https://www.facebook.com/" if index % 2 else "https://www.instagram.com/"
            contacts.append({"contactgegeventype": "SocialMedia", "waarde": site + domain[:-3]})
        body["contactgegevens"] = contacts

        people = []
        for number in range(rng.choice([1, 1, 2, 2, 2, 3])):
            given, nickname_, sex = rng.choice(GIVEN)
            surname = rng.choice(SURNAMES)
            person: dict = {"insz": insz(rng, used_insz, sex, young=rng.random() < 0.25), "voornaam": given,
                            "achternaam": surname}
            if nickname_:
                person["roepnaam"] = nickname_
            person |= {"rol": ROLES[number], "isPrimair": number == 0}
            if rng.random() < 0.8:
                person["email"] = f"{slug(given)}.{slug(surname)}@" + (domain if number == 0 else "example.be")
            if rng.random() < 0.4:
                person["telefoon"] = phone(rng, zone)
            if rng.random() < 0.7:
                person["mobiel"] = phone(rng, None)
            people.append(person)
        body["vertegenwoordigers"] = people
        out.append(body)
    return out


def check(data: list[dict]) -> None:
    """Assert every rule the demo data must follow (see the module docstring and data/README.md)."""
    import phonenumbers
    from email_validator import validate_email
    from stdnum.be import nn

    today = date.today()
    postcodes = {(row["postcode"], row["gemeente"]): row["code"] for row in read_csv("postcodes.csv")}
    areas = {row["code"]: row["niveau"] for row in read_csv("werkingsgebieden.csv")}

    def valid_phone(value: str) -> bool:
        return phonenumbers.is_valid_number(phonenumbers.parse(value, "BE"))

    assert isinstance(data, list) and len(data) >= 64, len(data)
    types = [d["verenigingstype"] for d in data]
    assert set(types) == {"FV", "VZER"} and 0.25 <= types.count("FV") / len(data) <= 0.45, types.count("FV")
    used = [code for d in data for code in d["hoofdactiviteiten"]]
    assert all(used.count(code) >= 2 for code in CODES), {code: used.count(code) for code in CODES}
    assert set(used) <= set(CODES)
    gemeenten = {loc["adres"]["gemeente"] for d in data for loc in d["locaties"]}
    provinces = {postcodes[loc["adres"]["postcode"], loc["adres"]["gemeente"]][:4]
                 for d in data for loc in d["locaties"]}
    assert len(gemeenten) >= 14 and provinces == FLEMISH_PROVINCES, (len(gemeenten), provinces)
    all_insz = [p["insz"] for d in data for p in d["vertegenwoordigers"]]
    assert len(all_insz) == len(set(all_insz)), "INSZ not unique"
    years = [nn.get_birth_date(i).year for i in all_insz]
    assert min(years) < 2000 <= max(years) <= 2007, (min(years), max(years))
    assert {"korteNaam", "doelgroep", "werkingsgebieden", "startdatum"} & {k for d in data for k in BODY_KEYS - set(d)}
    assert any(d["verenigingstype"] == "FV" and d.get("werkingsgebieden") == ["NVT"] for d in data)
    assert any(len(d["locaties"]) == 2 and d["locaties"][1]["locatietype"] == "Correspondentie" for d in data)
    seen: dict[str, list[str]] = {}
    for d in data:
        where = d["naam"]
        assert set(d) <= BODY_KEYS and {"verenigingstype", "naam", "hoofdactiviteiten"} <= set(d), where
        assert d["naam"].strip() and "<" not in d.get("korteBeschrijving", ""), where
        assert 1 <= len(d["hoofdactiviteiten"]) <= 3 and len(set(d["hoofdactiviteiten"])) == len(
            d["hoofdactiviteiten"]), where
        if "startdatum" in d:
            assert date.fromisoformat(d["startdatum"]) < today, where
        if "doelgroep" in d:
            low, high = d["doelgroep"]["minimumleeftijd"], d["doelgroep"]["maximumleeftijd"]
            assert 0 <= low <= high <= 150, where
        gebieden = d.get("werkingsgebieden", [])
        assert len(gebieden) <= 3 and len(set(gebieden)) == len(gebieden), where
        assert gebieden == ["NVT"] or all(areas.get(g) in ("gemeente", "provincie") for g in gebieden), where
        locaties = d["locaties"]
        assert locaties and sum(loc["isPrimair"] for loc in locaties) <= 1, where
        assert sum(loc["locatietype"] == "Correspondentie" for loc in locaties) <= 1, where
        for loc in locaties:
            adres = loc["adres"]
            assert loc["locatietype"] in ("Activiteiten", "Correspondentie") and len(loc.get("naam", "")) <= 128
            assert (adres["postcode"], adres["gemeente"]) in postcodes and adres["land"] == "België", where
            assert adres["straatnaam"] and adres["huisnummer"], where
        contacts = d["contactgegevens"]
        assert contacts, where
        for kind in ("E-mail", "Telefoon", "Website", "SocialMedia"):
            assert sum(c.get("isPrimair", False) for c in contacts if c["contactgegeventype"] == kind) <= 1, where
        for c in contacts:
            kind, value = c["contactgegeventype"], c["waarde"]
            assert kind in ("E-mail", "Telefoon", "Website", "SocialMedia"), where
            if kind == "E-mail":
                validate_email(value, check_deliverability=False)
            elif kind == "Telefoon":
                assert valid_phone(value), value
            else:
                assert value.startswith("https://"), value
        people = d["vertegenwoordigers"]
        assert 1 <= len(people) <= 3 and sum(p["isPrimair"] for p in people) <= 1, where
        for p in people:
            assert set(p) <= PERSON_KEYS and nn.is_valid(p["insz"]), p
            born = nn.get_birth_date(p["insz"])
            assert born.year <= 2007 and date(born.year + 18, born.month, born.day) <= today, p
            for key in ("voornaam", "achternaam"):
                assert not any(ch.isdigit() for ch in p[key]) and all(ch.isalpha() or ch in " -'" for ch in p[key])
            if "email" in p:
                validate_email(p["email"], check_deliverability=False)
            assert all(valid_phone(p[key]) for key in ("telefoon", "mobiel") if key in p), p
        gemeente = locaties[0]["adres"]["gemeente"]
        folded = fold(d["naam"], gemeente)
        assert not any(similar(folded, fold(other, gemeente)) for other in seen.get(gemeente, [])), where
        seen.setdefault(gemeente, []).append(d["naam"])
    print(f"ok: {len(data)} verenigingen ({types.count('FV')} FV) in {len(gemeenten)} gemeenten, "
          f"{len(provinces)} provincies, {len(set(used))} hoofdactiviteiten, {len(all_insz)} vertegenwoordigers")


if __name__ == "__main__":
    if "--check" not in sys.argv:
        TARGET.write_text(json.dumps(generate(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    check(json.loads(TARGET.read_text(encoding="utf-8")))
