"""scripts/check-openapi.py accepts Public/openapi.json and refuses what agent platforms' importers refuse."""
from __future__ import annotations

import copy
import importlib.util
import json

from conftest import REPO

spec = importlib.util.spec_from_file_location("check_openapi", REPO / "scripts/check-openapi.py")
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)
DOC = json.loads((REPO / "Public/openapi.json").read_text())


def test_the_published_document_passes():
    assert check.problems(DOC, 1000) == []


def test_each_defect_is_reported():
    broken = copy.deepcopy(DOC)
    del broken["paths"]["/v1/generate"]["post"]["description"]
    broken["paths"]["/v1/estimate"]["post"]["operationId"] = "generate"
    del broken["components"]["securitySchemes"]
    broken["components"]["schemas"]["Orphan"] = {"type": "object"}
    found = "\n".join(check.problems(broken, 200_000))
    assert "POST /v1/generate: description missing" in found
    assert "operationId generate used twice" in found
    assert "no bearer security scheme" in found
    assert "components.schemas.Orphan is not used" in found
    assert "over the 131072-byte budget" in found
