"""Each change is classified from the states before and after it into meldingen."""

from __future__ import annotations

import copy

from app.domain.parse import parse_registration
from app.meldingen.events import EVENT_TYPES, RESTRICTED_TYPES, Event, classify
from app.meldingen.handoff import Handoff
from tests.conftest import valid_body


def state() -> dict:
    parsed = parse_registration(valid_body())
    for kind in ("locaties", "contactgegevens", "vertegenwoordigers", "lidmaatschappen", "erkenningen",
                 "bankrekeningnummers"):
        for index, item in enumerate(parsed.get(kind, []), start=1):
            item["id"] = index
    parsed.setdefault("status", "Actief")
    return parsed


def changed(**edits) -> tuple[dict, dict]:
    old = state()
    new = copy.deepcopy(old)
    for key, edit in edits.items():
        new[key] = edit(copy.deepcopy(new[key]))
    return old, new


def kinds(old, new, activity="wijziging") -> list[str]:
    return [kind for kind, _ in classify(old, new, activity)]


def test_registration_stop_reactivation_and_removal():
    assert kinds(None, state(), "registratie") == ["nieuwe-vereniging"]
    old, new = changed(status=lambda _: "Gestopt", einddatum=lambda _: "2024-01-31")
    assert kinds(old, new, "stopzetting") == ["gestopt"]  # einddatum is covered by the stop, not a second event
    assert kinds(new, old, "correctie-stopzetting") == ["heractiveerd"]
    assert kinds(old, None, "verwijdering") == ["verwijderd"]
    winding_down = changed(inStopzetting=lambda _: True)
    assert kinds(*winding_down) == ["in-stopzetting"]
    assert kinds(*changed(status=lambda _: "Onbekend")) == ["status-gewijzigd"]
    winding, _ = changed()
    winding.update(inStopzetting=True, stopzettingsmelding={"datum": "2025-06-01", "reden": "ontbinding"})
    stopped = dict(winding, status="Gestopt", inStopzetting=False, stopzettingsmelding=None)
    assert classify(winding, stopped, "stopzetting") == [("gestopt", ("status", "inStopzetting",
                                                                      "stopzettingsmelding"))]


def test_field_changes_map_to_their_event_types():
    assert kinds(*changed(naam=lambda _: "Nieuwe naam")) == ["naam-gewijzigd"]
    assert classify(*changed(korteNaam=lambda _: "NN"), "wijziging") == [("naam-gewijzigd", ("korteNaam",))]

    def move(locaties):
        locaties[0]["adres"]["huisnummer"] = "12"
        return locaties

    assert kinds(*changed(locaties=move)) == ["adres-gewijzigd"]

    def rename_site(locaties):
        locaties[0]["naam"] = "Andere sporthal"
        return locaties

    assert classify(*changed(locaties=rename_site), "wijziging") == [("gegevens-gewijzigd", ("locaties",))]
    assert kinds(*changed(contactgegevens=lambda c: c[:1])) == ["contactgegevens-gewijzigd"]
    assert classify(*changed(korteBeschrijving=lambda _: "Anders", hoofdactiviteiten=lambda _: ["SPRT"]),
                    "wijziging") == [("gegevens-gewijzigd", ("hoofdactiviteiten", "korteBeschrijving"))]


def test_vertegenwoordigers_and_bankrekeningen_are_restricted_events():
    def add(items):
        return items + [{**items[0], "id": 2, "insz": "90020112305", "voornaam": "Bart"}]

    def edit(items):
        items[0]["rol"] = "Secretaris"
        return items

    assert kinds(*changed(vertegenwoordigers=add)) == ["nieuwe-vertegenwoordiger"]
    assert kinds(*changed(vertegenwoordigers=edit)) == ["vertegenwoordiger-gewijzigd"]
    assert kinds(*changed(vertegenwoordigers=lambda _: [])) == ["vertegenwoordiger-vertrokken"]
    iban = [{"id": 1, "iban": "BE71096123456769", "titularissen": ["De Smashers"]}]
    assert kinds(*changed(bankrekeningnummers=lambda _: iban)) == ["bankrekening-gewijzigd"]
    assert {"nieuwe-vertegenwoordiger", "vertegenwoordiger-gewijzigd", "vertegenwoordiger-vertrokken",
            "bankrekening-gewijzigd"} == RESTRICTED_TYPES
    assert not RESTRICTED_TYPES & {"nieuwe-vereniging", "gestopt", "adres-gewijzigd", "naam-gewijzigd"}


def test_one_change_can_raise_several_events_in_a_fixed_order():
    old, new = changed(naam=lambda _: "X", status=lambda _: "Gestopt",
                       erkenningen=lambda e: e + [{"id": 1, "ipdcProductNummer": "1502"}])
    assert kinds(old, new) == ["gestopt", "naam-gewijzigd", "erkenning-toegekend"]
    assert all(kind in EVENT_TYPES for kind in kinds(old, new))
    assert kinds(state(), state()) == []


def melding(sequence: int, naam: str = "Schaakclub") -> Event:
    """One naam-gewijzigd melding of V0001001 (for tests of what carries meldingen, not what makes them)."""
    return Event(type="naam-gewijzigd", sequence=sequence, index=0, time="2026-01-01T00:00:00Z", vcode="V0001001",
                 vereniging="http://x/id/vereniging/V0001001", version="http://x/v/1", naam=naam,
                 initiator="OVO000001", initiator_iri="http://x/ovo", initiator_naam="Gent", activity="wijziging")


def test_the_handoff_gives_delivery_only_commits_that_were_written():
    """Events built for a commit that then failed are never handed over: a later commit with the same
    sequence replaces them, a confirmed later sequence drops them (read from the store instead)."""
    handoff = Handoff()
    handoff.built(1, [melding(1, "niet bewaard")])
    assert handoff.take(range(1, 2)) == ({}, [1])  # nobody delivers in this process: nothing is kept
    handoff.taking = True
    handoff.built(5, [melding(5, "mislukte poging")])
    handoff.built(6, [melding(6, "mislukte poging")])
    handoff.built(5, [melding(5, "geschreven")])  # the retry took sequence 5 again
    handoff.confirm(5)
    handoff.built(7, [melding(7, "geschreven")])
    handoff.confirm(7)  # 6 was never written by this process (another one may have): not handed over
    found, missing = handoff.take(range(5, 9))
    assert {s: [e.naam for e in events] for s, events in found.items()} == {5: ["geschreven"], 7: ["geschreven"]}
    assert missing == [6, 8]
    assert handoff.take(range(5, 8)) == ({}, [5, 6, 7])  # handed over once; a lane starting back reads the store
