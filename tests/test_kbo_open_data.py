"""KBO open data: a small synthetic dump in the public format, synchronised through the write path."""

from __future__ import annotations

import csv
from pathlib import Path

from pyoxigraph import NamedNode

from app.exchange.kbo_open_data import sync
from app.namespaces import GRAPH_VERSIONS_PUBLIC, PROV
from tests.conftest import Keys, dump

VZW, PS, BV = "0202.239.951", "0725.459.040", "0403.199.702"


def write(directory: Path, name: str, header: list[str], rows: list[list[str]]) -> None:
    with (directory / name).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        writer.writerows(rows)


def dump_dir(tmp_path: Path, *, name: str = "Sportraad Gent", status: str = "AC") -> Path:
    directory = tmp_path / "kbo"
    directory.mkdir(exist_ok=True)
    write(directory, "enterprise.csv", ["EnterpriseNumber", "Status", "JuridicalSituation", "TypeOfEnterprise",
                                        "JuridicalForm", "JuridicalFormCAC", "StartDate"],
          [[VZW, status, "000", "2", "017", "", "01-05-1990"], [PS, "AC", "000", "2", "026", "", "15-02-2001"],
           [BV, "AC", "000", "2", "014", "", "01-01-1980"]])
    write(directory, "denomination.csv", ["EntityNumber", "Language", "TypeOfDenomination", "Denomination"],
          [[VZW, "2", "001", name], [VZW, "2", "002", "SRG"], [PS, "1", "001", "Fondation Les Amis"],
           [BV, "2", "001", "Bakkerij Bv"]])
    write(directory, "address.csv", ["EntityNumber", "TypeOfAddress", "CountryNL", "CountryFR", "Zipcode",
                                     "MunicipalityNL", "MunicipalityFR", "StreetNL", "StreetFR", "HouseNumber", "Box",
                                     "ExtraAddressInfo", "DateStrikingOff"],
          [[VZW, "REGO", "", "", "9000", "Gent", "Gand", "Zuiderlaan", "Avenue du Sud", "13", "", "", ""],
           [PS, "REGO", "", "", "1000", "Brussel", "Bruxelles", "Kunstberg", "Mont des Arts", "1", "B", "", ""]])
    write(directory, "contact.csv", ["EntityNumber", "EntityContact", "ContactType", "Value"],
          [[VZW, "ENT", "EMAIL", "info@sportraadgent.be"], [VZW, "ENT", "WEB", "www.sportraadgent.be"],
           [VZW, "ENT", "TEL", "geen nummer"], [PS, "ENT", "EMAIL", "contact@lesamis.be"]])
    return directory


def test_sync_registers_associations_only_attributed_to_kbo(tmp_path, register, client):
    report = sync(dump_dir(tmp_path), register.handler)
    assert sorted(report.registered) == ["0202239951", "0725459040"]  # the BV is no association
    assert report.rejected_values == [("0202239951", "Telefoon", "geen nummer")]
    agents = {row["agent"].value for row in register.store.select(
        f"SELECT DISTINCT ?agent WHERE {{ ?a <{PROV}wasAssociatedWith> ?agent }}",
        default_graph=[NamedNode(GRAPH_VERSIONS_PUBLIC)])}
    assert agents == {"https://w3id.org/verenigingsregister/agent/KBO"}
    page = client.get("/doc/vereniging/V0001001.jsonld").get_json()
    assert page["naam"] == "Sportraad Gent" and page["verenigingstype"] == "VZW" and page["korteNaam"] == "SRG"
    assert page["locaties"][0]["locatietype"] == "MaatschappelijkeZetelVolgensKBO"


def test_kbo_fields_stay_read_only_and_initiator_data_survives_a_resync(tmp_path, register, client, keys):
    sync(dump_dir(tmp_path), register.handler)
    auth = Keys.auth(keys.initiator)
    patch = {**auth, "Content-Type": "application/merge-patch+json"}
    assert client.patch("/verenigingen/V0001001", json={"naam": "Andere naam"}, headers=patch).status_code == 400
    kbo_contact = client.delete("/verenigingen/V0001001/contactgegevens/1", headers=auth)
    assert kbo_contact.status_code == 400 and "KBO" in kbo_contact.get_json()["detail"]
    assert client.patch("/verenigingen/V0001001/contactgegevens/1", json={"beschrijving": "Secretariaat"},
                        headers=patch).status_code == 200
    added = client.post("/verenigingen/V0001001/contactgegevens", headers=auth,
                        json={"contactgegeventype": "Telefoon", "waarde": "09 234 56 78"})
    assert added.status_code == 201
    activities = client.patch("/verenigingen/V0001001", json={"hoofdactiviteiten": ["SPRT"]}, headers=patch)
    assert activities.status_code == 200

    before = dump(register)
    again = sync(dump_dir(tmp_path), register.handler)
    assert sorted(again.unchanged) == ["0202239951", "0725459040"] and dump(register) == before

    renamed = sync(dump_dir(tmp_path, name="Sportraad Stad Gent"), register.handler)
    assert renamed.updated == ["0202239951"]
    page = client.get("/doc/vereniging/V0001001.jsonld", headers=Keys.auth(keys.reader)).get_json()
    assert page["naam"] == "Sportraad Stad Gent" and page["hoofdactiviteiten"] == ["SPRT"]
    values = {c["waarde"]: c.get("beschrijving") for c in page["contactgegevens"]}
    assert values == {"info@sportraadgent.be": "Secretariaat", "https://www.sportraadgent.be": None,
                      "+32 9 234 56 78": None}

    stopped = sync(dump_dir(tmp_path, name="Sportraad Stad Gent", status="ST"), register.handler)
    assert stopped.stopped == ["0202239951"]
    assert client.get("/doc/vereniging/V0001001.jsonld", headers=Keys.auth(keys.reader)).get_json()["status"] == \
        "Gestopt"
