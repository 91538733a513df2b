"""RDF vocabularies the register speaks, as plain IRI prefixes.

Kept as strings (not rdflib/pyoxigraph objects) so every layer can build the
terms it needs without converting between RDF libraries.
"""

FV = "https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#"
ORG = "http://www.w3.org/ns/org#"
REGORG = "http://www.w3.org/ns/regorg#"
ORGANISATIE = "https://data.vlaanderen.be/ns/organisatie#"
M8G = "http://data.europa.eu/m8g/"
DCTERMS = "http://purl.org/dc/terms/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ADMS = "http://www.w3.org/ns/adms#"
GENERIEK = "https://data.vlaanderen.be/ns/generiek#"
SCHEMA = "http://schema.org/"
FOAF = "http://xmlns.com/foaf/0.1/"
LOCN = "http://www.w3.org/ns/locn#"
ADRES = "https://data.vlaanderen.be/ns/adres#"
PERSON = "http://www.w3.org/ns/person#"
PERSOON = "https://data.vlaanderen.be/ns/persoon#"
PROV = "http://www.w3.org/ns/prov#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
SH = "http://www.w3.org/ns/shacl#"
LBLOD_FV = "http://data.lblod.info/vocabularies/FeitelijkeVerenigingen/"

# The project's own, deployment-independent namespace (code lists, extension terms).
PROJECT = "https://w3id.org/verenigingsregister/"
VRX = PROJECT + "ns#"
CONCEPT = PROJECT + "concept/"
SCHEME = PROJECT + "conceptscheme/"

# Graph names are URNs: they never depend on where the register is deployed.
GRAPH_PUBLIC = "urn:vr:graph:public"
GRAPH_RESTRICTED = "urn:vr:graph:restricted"
GRAPH_VERSIONS_PUBLIC = "urn:vr:graph:versions:public"
GRAPH_VERSIONS_RESTRICTED = "urn:vr:graph:versions:restricted"
GRAPH_SYSTEM = "urn:vr:graph:system"
GRAPH_CODELISTS = "urn:vr:graph:codelists"

# The licence of everything the register publishes (Flemish open-data licence).
LICENTIE = "https://data.vlaanderen.be/id/licentie/modellicentie-gratis-hergebruik/v1.0"

PUBLIC_GRAPHS = (GRAPH_PUBLIC, GRAPH_VERSIONS_PUBLIC, GRAPH_CODELISTS)

PREFIXES = {
    "fv": FV,
    "org": ORG,
    "regorg": REGORG,
    "organisatie": ORGANISATIE,
    "m8g": M8G,
    "dcterms": DCTERMS,
    "skos": SKOS,
    "adms": ADMS,
    "generiek": GENERIEK,
    "schema": SCHEMA,
    "foaf": FOAF,
    "locn": LOCN,
    "adres": ADRES,
    "person": PERSON,
    "persoon": PERSOON,
    "prov": PROV,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "owl": OWL,
    "vrx": VRX,
    "lblodfv": LBLOD_FV,
    "ldes": "https://w3id.org/ldes#",
    "tree": "https://w3id.org/tree#",
    "sh": SH,
    "dcat": "http://www.w3.org/ns/dcat#",
    "as": "https://www.w3.org/ns/activitystreams#",
}
