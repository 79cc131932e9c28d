"""The API reference page: rendered on the server from the OpenAPI document itself, so
it never drifts from ``schema/`` and needs no script (and no CDN)."""

from functools import lru_cache

from django.shortcuts import render
from django.views.decorators.http import require_GET
from drf_spectacular.generators import SchemaGenerator

METHODS = ["get", "post", "put", "patch", "delete"]


@lru_cache(maxsize=1)
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = doc["components"]["schemas"][name]
    return node or {}


def _type_of(doc, node):
    if "$ref" in node:
        target = _resolve(doc, node)
        if "enum" in target:
            return " | ".join(str(v) for v in target["enum"] if v not in ("", None))
        return node["$ref"].rsplit("/", 1)[-1]
    if "allOf" in node:
        return " | ".join(_type_of(doc, part) for part in node["allOf"])
    if "oneOf" in node:
        return " | ".join(_type_of(doc, part) for part in node["oneOf"])
    if node.get("enum"):
        values = [str(v) for v in node["enum"] if v not in ("", None)]
        return " | ".join(values[:12]) + (" | …" if len(values) > 12 else "")
    kind = node.get("type", "object")
    if kind == "array":
        return f"list of {_type_of(doc, node.get('items', {}))}"
    if node.get("format"):
        return f"{kind} ({node['format']})"
    return str(kind)


def _fields(doc, node):
    node = _resolve(doc, node)
    if node.get("type") == "array":
        node = _resolve(doc, node.get("items", {}))
    required = set(node.get("required", []))
    out = []
    for name, prop in node.get("properties", {}).items():
        prop_resolved = _resolve(doc, prop) if "$ref" in prop else prop
        flags = []
        if prop.get("readOnly") or prop_resolved.get("readOnly"):
            flags.append("read-only")
        if prop.get("writeOnly"):
            flags.append("write-only")
        if prop.get("nullable"):
            flags.append("nullable")
        out.append(
            {
                "name": name,
                "type": _type_of(doc, prop),
                "required": name in required and not prop.get("readOnly"),
                "flags": ", ".join(flags),
                "description": prop.get("description", ""),
            }
        )
    return out


def operations():
    doc = schema()
    groups = {}
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            responses = []
            for code, response in op.get("responses", {}).items():
                content = response.get("content", {}).get("application/json", {})
                responses.append(
                    {
                        "code": code,
                        "description": response.get("description", ""),
                        "fields": _fields(doc, content["schema"])
                        if code.startswith("2") and "schema" in content
                        else [],
                    }
                )
            tag = (op.get("tags") or ["other"])[0]
            groups.setdefault(tag, []).append(
                {
                    "anchor": op.get("operationId", f"{method}-{path}"),
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": _type_of(doc, p.get("schema", {})),
                            "description": p.get("description", ""),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "body": _fields(doc, body["schema"]) if "schema" in body else [],
                    "responses": responses,
                }
            )
    return doc, groups


@require_GET
def reference(request):
    doc, groups = operations()
    return render(
        request,
        "api/docs.html",
        {"info": doc["info"], "groups": sorted(groups.items())},
    )
