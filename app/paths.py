"""Where the project's data folders live (ontology/, shapes/, mappings/, data/)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("VR_HOME", Path(__file__).resolve().parent.parent))
ONTOLOGY = ROOT / "ontology"
SHAPES = ROOT / "shapes"
MAPPINGS = ROOT / "mappings"
DATA = ROOT / "data"
