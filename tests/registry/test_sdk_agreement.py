"""The model registry (Sources/AtelierCore/Resources/models.json) agrees with the INSTALLED official OpenAI SDK.

Reads the SDK's own parameter files (openai/types/image_model.py, image_generate_params.py, image_edit_params.py)
with `ast`, never importing a copy of them, and fails when the registry disagrees on model ids per endpoint,
qualities, backgrounds or output formats. scripts/install-deps.sh pins openai==3.57.0; a newer SDK that lists a
new model or option makes this test fail until the registry is updated (that is the point).

Run: python3 -m pytest tests/registry -q
"""

import ast
import json
import pathlib
import re

import pytest

openai = pytest.importorskip("openai")

ROOT = pathlib.Path(__file__).resolve().parents[2]
REGISTRY = json.loads((ROOT / "Sources/AtelierCore/Resources/models.json").read_text())
TYPES = pathlib.Path(openai.__file__).parent / "types"
GPT_QUALITIES = {"low", "medium", "high", "auto"}


def literal_values(node):
    """The strings of a `Literal[...]` annotation, found anywhere inside `Optional[...]`/`Union[...]`."""
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def fields(path, class_name):
    """{field: (annotation node, docstring)} for one TypedDict class of an SDK file."""
    tree = ast.parse(path.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name)
    out = {}
    for i, node in enumerate(cls.body):
        if isinstance(node, ast.AnnAssign):
            doc = cls.body[i + 1] if i + 1 < len(cls.body) else None
            text = doc.value.value if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) else ""
            out[node.target.id] = (node.annotation, text)
    return out


def sdk_model_ids():
    tree = ast.parse((TYPES / "image_model.py").read_text())
    assign = next(n for n in tree.body if isinstance(n, ast.AnnAssign) and n.target.id == "ImageModel")
    return literal_values(assign.value)


def ids_in(text, known):
    """Backticked model ids in `text`, restricted to ids the SDK's ImageModel literal knows; "including their
    `2026-09-08` snapshots" adds `<id>-2026-09-08` for each id named."""
    ids = {m for m in re.findall(r"`([a-z0-9.\-]+)`", text) if m in known}
    for date in re.findall(r"their `(\d{4}-\d\d-\d\d)` snapshots", text):
        ids |= {f"{m}-{date}" for m in ids if f"{m}-{date}" in known}
    return ids


def model_list(text):
    """The paragraph of a `model` docstring that lists the supported models (not the shut-down notes)."""
    paragraphs = re.split(r"\n\s*\n", text.split("Deprecated values:")[0])
    return next(p for p in paragraphs if len(ids_in(p, KNOWN)) >= 2 and "shut down" not in p)


def sentence_with(text, words):
    flat = " ".join(text.split())
    return next(s for s in re.split(r"(?<=\.)\s+", flat) if all(w in s for w in words))


ENDPOINT_FILES = {"generations": ("image_generate_params.py", "ImageGenerateParamsBase"),
                  "edits": ("image_edit_params.py", "ImageEditParamsBase")}
SDK = {endpoint: fields(TYPES / file, cls) for endpoint, (file, cls) in ENDPOINT_FILES.items()}
KNOWN = sdk_model_ids()
MODELS = {m["id"]: m for m in REGISTRY["models"]}
RETIRED = {r["id"]: r for r in REGISTRY["retired"]}


def test_sdk_is_the_pinned_version():
    assert openai.__version__ == "3.57.0", "scripts/install-deps.sh pins openai==3.57.0; re-check the registry"


def test_every_sdk_model_id_is_known_to_the_registry():
    assert KNOWN == set(MODELS) | set(RETIRED)


@pytest.mark.parametrize("endpoint", ["generations", "edits"])
def test_model_ids_per_endpoint(endpoint):
    _, doc = SDK[endpoint]["model"]
    listed = ids_in(model_list(doc), KNOWN)
    assert listed, "could not read the SDK's model list"
    offered = {i for i, m in MODELS.items() if endpoint in m["endpoints"]}
    assert offered == listed, f"{endpoint}: registry offers {sorted(offered)}, SDK lists {sorted(listed)}"


@pytest.mark.parametrize("endpoint", ["generations", "edits"])
def test_retired_models_are_refused_with_a_replacement(endpoint):
    _, doc = SDK[endpoint]["model"]
    deprecated = set(re.findall(r'"([a-z0-9.\-]+)"', doc.split("Deprecated values:")[1]))
    assert deprecated and deprecated <= set(RETIRED)
    for model_id in deprecated:
        assert RETIRED[model_id]["replacement"] in MODELS


@pytest.mark.parametrize("endpoint", ["generations", "edits"])
def test_qualities(endpoint):
    annotation, doc = SDK[endpoint]["quality"]
    allowed = literal_values(annotation) - {"standard", "hd"}  # "Deprecated values": retired DALL·E only
    extra_models = ids_in(sentence_with(doc, ["xhigh", "max"]), KNOWN)
    assert "gpt-image-2.5-sunburst" in extra_models
    for model_id, model in MODELS.items():
        qualities = set(model["qualities"])
        assert qualities <= allowed, f"{model_id}: {qualities - allowed} not in the SDK's quality literal"
        assert GPT_QUALITIES <= qualities, f"{model_id}: the SDK says GPT image models support low, medium, high"
        if model_id in extra_models:
            assert qualities == GPT_QUALITIES | {"xhigh", "max"}, model_id
        elif qualities != GPT_QUALITIES:
            # Wider than the SDK's sentence only with another recorded source (2.6: the reference's model table).
            assert "openai-images-2026-11.md" in model["sources"]["qualities"], model_id


@pytest.mark.parametrize("endpoint", ["generations", "edits"])
def test_backgrounds(endpoint):
    annotation, doc = SDK[endpoint]["background"]
    allowed = literal_values(annotation)
    assert allowed == {"transparent", "opaque", "auto"}
    supported = ids_in(sentence_with(doc, ["support", "opaque", "transparent"]), KNOWN)
    preview = ids_in(sentence_with(doc, ["preview"]), KNOWN)
    assert supported and preview
    for model_id, model in MODELS.items():
        backgrounds = set(model["backgrounds"])
        assert backgrounds <= allowed
        assert {"auto", "opaque"} <= backgrounds, model_id
        if model_id in supported:
            assert "transparent" in backgrounds, f"{model_id}: the SDK says it supports transparent"
        if model_id in preview:
            assert "transparent" not in backgrounds, f"{model_id}: transparency is a preview; keep it in preview_backgrounds"
            assert model.get("preview_backgrounds") == ["transparent"], model_id
        else:
            assert "preview_backgrounds" not in model, model_id


@pytest.mark.parametrize("endpoint", ["generations", "edits"])
def test_output_formats(endpoint):
    annotation, _ = SDK[endpoint]["output_format"]
    sdk_formats = literal_values(annotation)
    _, gif_doc = SDK[endpoint]["frame_count"]
    assert "preview" in gif_doc  # gif (and svg, "project access") are gated: not plain output formats
    for model_id, model in MODELS.items():
        assert set(model["output_formats"]) == {"png", "jpeg", "webp"}, model_id
        assert set(model["output_formats"]) <= sdk_formats
        assert set(model.get("preview_formats", [])) <= sdk_formats - {"png", "jpeg", "webp"}, model_id


def test_every_model_names_its_sources():
    for model_id, model in MODELS.items():
        sources = model.get("sources", {})
        for fact in ("endpoints", "qualities", "backgrounds", "output_formats", "prices_per_million"):
            assert sources.get(fact), f"{model_id}: no source recorded for {fact}"
        if model.get("shutdown_date"):
            assert model.get("replacement") in MODELS and sources.get("shutdown_date"), model_id
