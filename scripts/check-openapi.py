#!/usr/bin/env python3
"""Checks Public/openapi.json the way agent platforms' action importers need it:
valid OpenAPI 3.1 (openapi-spec-validator), `servers` and the bearer security scheme declared, every operation
with a unique operationId (letters, digits, _ and -), a summary, a description of at most 300 characters and at
least one example, every schema in components referenced from the paths, and the document under 128 KB.

Usage: python3 scripts/check-openapi.py Public/openapi.json
"""
import json
import re
import sys

from openapi_spec_validator import validate

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
MAX_BYTES = 128 * 1024


def refs(node):
    """Every $ref under node."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def has_example(node):
    if isinstance(node, dict):
        return any(key in ("example", "examples") or has_example(value) for key, value in node.items())
    if isinstance(node, list):
        return any(has_example(item) for item in node)
    return False


def problems(doc, size):
    found = []
    try:
        validate(doc)
    except Exception as error:  # noqa: BLE001 - the validator's message is the report
        found.append(f"not valid OpenAPI: {error}")
    if not doc.get("servers"):
        found.append("no servers")
    schemes = doc.get("components", {}).get("securitySchemes", {})
    if not any(s.get("type") == "http" and s.get("scheme") == "bearer" for s in schemes.values()):
        found.append("no bearer security scheme in components.securitySchemes")
    if not doc.get("security"):
        found.append("no top-level security requirement")
    seen = set()
    for path, operations in doc.get("paths", {}).items():
        for method, op in operations.items():
            if method not in METHODS:
                continue
            name = f"{method.upper()} {path}"
            oid = op.get("operationId")
            if not oid or not re.fullmatch(r"[A-Za-z0-9_-]+", oid):
                found.append(f"{name}: operationId missing or not [A-Za-z0-9_-]+")
            elif oid in seen:
                found.append(f"{name}: operationId {oid} used twice")
            seen.add(oid)
            if not op.get("summary"):
                found.append(f"{name}: no summary")
            description = op.get("description", "")
            if not description or len(description) > 300:
                found.append(f"{name}: description missing or over 300 characters ({len(description)})")
            if not has_example(op):
                found.append(f"{name}: no example")
    # Schemas reachable from the paths (following $refs between schemas too).
    schemas = doc.get("components", {}).get("schemas", {})
    reachable, todo = set(), list(refs(doc.get("paths", {})))
    while todo:
        ref = todo.pop()
        if ref.startswith("#/components/schemas/"):
            schema = ref.rsplit("/", 1)[1]
            if schema not in reachable:
                reachable.add(schema)
                todo.extend(refs(schemas.get(schema, {})))
    for unused in sorted(set(schemas) - reachable):
        found.append(f"components.schemas.{unused} is not used by any operation")
    if size > MAX_BYTES:
        found.append(f"{size} bytes: over the {MAX_BYTES}-byte budget for action importers")
    return found


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "Public/openapi.json"
    raw = open(path, "rb").read()
    found = problems(json.loads(raw), len(raw))
    for problem in found:
        print(f"{path}: {problem}", file=sys.stderr)
    if found:
        sys.exit(1)
    doc = json.loads(raw)
    count = sum(1 for ops in doc["paths"].values() for m in ops if m in METHODS)
    print(f"{path}: valid OpenAPI {doc['openapi']}, {count} operations, {len(doc['components'].get('schemas', {}))} schemas, {len(raw)} bytes")


if __name__ == "__main__":
    main()
