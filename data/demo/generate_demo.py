"""Generate data/demo/verenigingen.json: fictional but realistic Flemish associations.

    python data/demo/generate_demo.py          # writes the file (deterministic)
    python data/demo/generate_demo.py --check  # checks the committed file against the demo rules

Everything is invented: names, people (INSZ with a valid checksum), e-mail domains and phone numbers.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE / "verenigingen.json"
CODES = ["BIAG", "BWWC", "DINT", "GEWE", "HOSP", "INOS", "JGDW", "KLDU", "KECU", "LAVI", "LEBE", "MADP", "MEDG",
         "MROW", "NMDW", "VORM", "SOVO", "SPRT", "ONWE", "TOER", "WESE"]
# (gemeente, postcode) in all five Flemish provinces
PLACES = [("Gent", "9000"), ("Aalst", "9300"), ("Sint-Niklaas", "9100"), ("Antwerpen", "2000"), ("Mechelen", "2800"),
          ("Turnhout", "2300"), ("Hasselt", "3500"), ("Genk", "3600"), ("Tongeren", "3700"), ("Leuven", "3000"),
          ("Vilvoorde", "1800"), ("Halle", "1500"), ("Brugge", "8000"), ("Kortrijk", "8500"), ("Oostende", "8400"),
          ("Roeselare", "8800")]
# name pattern, korte naam pattern, description, hoofdactiviteiten, (min, max) age
KINDS = [
    ("Volleybalclub {x}", "VC {x}", "Recreatieve en competitieve volleybal voor jong en oud.", ["SPRT"], (8, 70)),
    ("Chirojeugd {x}", "Chiro {x}", "Wekelijkse jeugdwerking met kampen in de zomer.", ["JGDW"], (6, 18)),
    ("Toneelkring {x}", None, "Amateurtoneel met twee voorstellingen per jaar.", ["KECU", "HOSP"], (12, 99)),
    ("Koninklijke Harmonie {x}", "Harmonie {x}", "Blaasorkest met muziekschool voor beginners.", ["KECU", "VORM"],
     (8, 99)),
    ("Buurtcomité {x}", None, "Buurtfeesten, burenhulp en een propere wijk.", ["BWWC", "BIAG"], (0, 150)),
    ("Imkersbond {x}", None, "Imkers delen kennis over bijen en biodiversiteit.", ["NMDW", "LAVI"], (16, 99)),
    ("Seniorenvereniging {x}", "S-Plus {x}", "Uitstappen, voordrachten en een wekelijkse koffietafel.",
     ["SOVO", "GEWE"], (55, 150)),
    ("Repair Café {x}", None, "Samen herstellen in plaats van weggooien.", ["KLDU", "WESE"], (0, 150)),
    ("Fietsersbond {x}", None, "Komt op voor veilige fietsroutes in de gemeente.", ["MROW", "BIAG"], (0, 150)),
    ("Wereldwinkel {x}", None, "Eerlijke handel en sensibilisering rond ontwikkelingssamenwerking.", ["INOS", "WESE"],
     (0, 150)),
    ("Davidsfonds {x}", None, "Cultuur, erfgoed en voordrachten.", ["KECU", "SOVO"], (16, 150)),
    ("Digidak {x}", None, "Digitale hulp en cursussen voor wie de digitale trein mist.", ["MEDG", "VORM"], (0, 150)),
    ("Sterrenkundige kring {x}", None, "Waarnemingsavonden en een eigen telescoop.", ["ONWE", "HOSP"], (10, 150)),
    ("Wandelclub {x}", None, "Georganiseerde wandeltochten in en rond de gemeente.", ["TOER", "SPRT"], (0, 150)),
    ("Parochiale werken {x}", None, "Ondersteuning van de parochiale gemeenschap.", ["LEBE", "MADP"], (0, 150)),
    ("Vrouwen met vaart {x}", None, "Ontmoeting en integratie van nieuwkomende vrouwen.", ["DINT", "SOVO"], (18, 150)),
    ("Welzijnsschakel {x}", None, "Vrijwilligers tegen armoede en uitsluiting.", ["GEWE", "MADP"], (0, 150)),
    ("Hondenclub {x}", None, "Gehoorzaamheidstraining en agility.", ["HOSP", "NMDW"], (12, 99)),
    ("Schaakclub {x}", None, "Clubavonden, interclub en jeugdschaak.", ["HOSP", "VORM"], (7, 99)),
    ("Landelijke Gilde {x}", None, "Vereniging voor het platteland en de landbouw.", ["LAVI", "TOER"], (18, 150)),
    ("Fablab {x}", None, "Maakplaats met 3D-printers en lasersnijder.", ["ONWE", "MEDG"], (12, 150)),
]
SURNAMES = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters", "De Smet",
            "Dubois", "Hermans", "Aerts", "Lambrechts", "Vermeulen", "Van Damme", "Desmet", "Verhaeghe", "Pauwels",
            "Claeys", "Vandenberghe", "Martens", "Michiels", "Smets"]
GIVEN = ["An", "Jan", "Els", "Tom", "Sofie", "Pieter", "Lotte", "Bart", "Nele", "Wim", "Katrien", "Stijn", "Ine",
         "Koen", "Marie", "Lucas", "Emma", "Arne", "Hanne", "Jef", "Fien", "Ruben", "Lies", "Dries"]
ROLES = ["Voorzitter", "Secretaris", "Penningmeester"]
STREETS = ["Kerkstraat", "Stationsstraat", "Dorpsstraat", "Schoolstraat", "Molenstraat", "Nieuwstraat", "Markt",
           "Kapelstraat", "Beekstraat", "Lindenlaan"]
NICKNAMES = ["De Vrolijke Vrienden", "Sint-Jan", "De Kastanjes", "Sint-Martinus", "De Toekomst", "Het Anker",
             "Eendracht", "De Linde", "Zonneweelde", "De Ster"]
AREA_CODES = {"Gent": "9", "Aalst": "53", "Sint-Niklaas": "3", "Antwerpen": "3", "Mechelen": "15", "Turnhout": "14",
              "Hasselt": "11", "Genk": "89", "Tongeren": "12", "Leuven": "16", "Vilvoorde": "2", "Halle": "2",
              "Brugge": "50", "Kortrijk": "56", "Oostende": "59", "Roeselare": "51"}


def insz(rng: random.Random, used: set[str]) -> str:
    """A fictional national register number with a valid checksum (born 1950–2006)."""
    while True:
        year, month, day = rng.randint(1950, 2006), rng.randint(1, 12), rng.randint(1, 28)
        serial = rng.randint(1, 997)
        base = f"{year % 100:02d}{month:02d}{day:02d}{serial:03d}"
        number = int(("2" if year >= 2000 else "") + base)
        value = base + f"{97 - number % 97:02d}"
        if value not in used:
            used.add(value)
            return value


def phone(rng: random.Random, gemeente: str, mobile: bool = False) -> str:
    """A number phonenumbers accepts as a valid Belgian landline (in the gemeente's zone) or mobile."""
    import phonenumbers

    while True:
        if mobile:
            text = f"+32 47{rng.randint(0, 9)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
        else:
            area = AREA_CODES[gemeente]
            digits = str(rng.randint(2, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(7 - len(area)))
            text = f"+32 {area} {digits[:len(digits) - 4]} {digits[-4:-2]} {digits[-2:]}"
        number = phonenumbers.parse(text, "BE")
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def werkingsgebied(gemeente: str, postcode: str) -> str:
    for row in csv.DictReader((HERE.parent / "postcodes.csv").open(encoding="utf-8")):
        if row["postcode"] == postcode:
            return row["code"]
    raise KeyError(postcode)


def generate() -> list[dict]:
    rng = random.Random(20261122)
    used: set[str] = set()
    out = []
    for index in range(64):
        name, short, description, codes, ages = KINDS[index % len(KINDS)]
        gemeente, postcode = PLACES[index % len(PLACES)]
        nickname = NICKNAMES[index % len(NICKNAMES)] if index % 3 == 0 else gemeente
        x = nickname if nickname != gemeente else gemeente
        naam = name.format(x=x)
        extra = [CODES[(index * 5) % 21]] if index % 4 == 0 and CODES[(index * 5) % 21] not in codes else []
        domain = slug(naam)[:20] + ".be"
        body: dict = {
            "verenigingstype": "FV" if index % 3 == 1 else "VZER",
            "naam": naam,
            "korteBeschrijving": description,
            "startdatum": date(rng.randint(1950, 2023), rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
            "hoofdactiviteiten": (codes + extra)[:3],
        }
        if short:
            body["korteNaam"] = short.format(x=x)
        if index % 5 != 4:
            body["doelgroep"] = {"minimumleeftijd": ages[0], "maximumleeftijd": ages[1]}
        area = werkingsgebied(gemeente, postcode)
        body["werkingsgebieden"] = ["NVT"] if index % 11 == 5 else [area] if index % 4 else [area, area[:4]]
        body["locaties"] = [{
            "locatietype": "Activiteiten", "isPrimair": True, "naam": f"Lokaal {naam.split()[0]}",
            "adres": {"straatnaam": rng.choice(STREETS), "huisnummer": str(rng.randint(1, 180)), "postcode": postcode,
                      "gemeente": gemeente, "land": "België"}}]
        if index % 4 == 1:
            body["locaties"][0]["adres"]["busnummer"] = str(rng.randint(1, 4))
        if index % 3 == 2:
            body["locaties"].append({
                "locatietype": "Correspondentie", "isPrimair": False,
                "adres": {"straatnaam": rng.choice(STREETS), "huisnummer": str(rng.randint(1, 180)),
                          "postcode": postcode, "gemeente": gemeente, "land": "België"}})
        body["contactgegevens"] = [
            {"contactgegeventype": "E-mail", "waarde": f"info@{domain}", "beschrijving": "Algemeen", "isPrimair": True},
            {"contactgegeventype": "Telefoon", "waarde": phone(rng, gemeente), "isPrimair": True},
        ]
        if index % 2 == 0:
            body["contactgegevens"].append({"contactgegeventype": "Website", "waarde": f"https://www.{domain}"})
        if index % 5 == 0:
            body["contactgegevens"].append({"contactgegeventype": "SocialMedia",
                                            "waarde": f"https://www.facebook.com/{slug(naam)}"})
        people = []
        for number in range(1 + index % 3):
            given, surname = GIVEN[(index + number * 7) % len(GIVEN)], SURNAMES[(index * 3 + number) % len(SURNAMES)]
            person = {"insz": insz(rng, used), "voornaam": given, "achternaam": surname, "rol": ROLES[number],
                      "isPrimair": number == 0, "email": f"{slug(given)}.{slug(surname)}@{domain}"}
            if number == 0:
                person["mobiel"] = phone(rng, gemeente, mobile=True)
            people.append(person)
        body["vertegenwoordigers"] = people
        out.append(body)
    return out


def check(data: list[dict]) -> None:
    import phonenumbers
    from email_validator import validate_email
    from stdnum.be import nn

    assert len(data) >= 60, len(data)
    assert len({d["locaties"][0]["adres"]["gemeente"] for d in data}) >= 12
    used = [c for d in data for c in d["hoofdactiviteiten"]]
    assert all(used.count(code) >= 2 for code in CODES), {c: used.count(c) for c in CODES}
    assert {d["verenigingstype"] for d in data} == {"FV", "VZER"}
    all_insz = [p["insz"] for d in data for p in d["vertegenwoordigers"]]
    assert len(all_insz) == len(set(all_insz)) and all(nn.is_valid(i) for i in all_insz)
    for d in data:
        assert 1 <= len(d["hoofdactiviteiten"]) <= 3 and d["startdatum"] < date.today().isoformat()
        for c in d["contactgegevens"]:
            if c["contactgegeventype"] == "Telefoon":
                assert phonenumbers.is_valid_number(phonenumbers.parse(c["waarde"], "BE")), c
            if c["contactgegeventype"] == "E-mail":
                validate_email(c["waarde"], check_deliverability=False)
        for p in d["vertegenwoordigers"]:
            if "mobiel" in p:
                assert phonenumbers.is_valid_number(phonenumbers.parse(p["mobiel"], "BE")), p
    print(f"ok: {len(data)} verenigingen in {len({d['locaties'][0]['adres']['gemeente'] for d in data})} gemeenten")


if __name__ == "__main__":
    if "--check" in sys.argv:
        check(json.loads(TARGET.read_text(encoding="utf-8")))
    else:
        TARGET.write_text(json.dumps(generate(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        check(json.loads(TARGET.read_text(encoding="utf-8")))
