"""Every operation documents the errors it can answer, with one shape for them."""

ERROR = {
    "type": "object",
    "description": "`detail` for a general error; field name → list of messages for "
    "validation errors (`non_field_errors` for the whole body).",
    "additionalProperties": True,
}

COMMON = {
    "400": "Invalid input (field messages), unknown or read-only fields.",
    "401": "Missing or invalid token.",
    "403": "Not allowed for your role.",
    "404": "No such object in your organisation.",
    "429": "Too many requests for this token: wait and retry (Retry-After).",
}
CHANGES = {
    "412": "Stale If-Match: it changed since you read it; nothing was written.",
    "428": "If-Match is required.",
}


def add_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, component in schemas.items():
        # Request bodies refuse unknown fields (StrictSerializer): say so.
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    schemas["Error"] = ERROR
    ref = {"$ref": "#/components/schemas/Error"}
    for item in result.get("paths", {}).values():
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = op.setdefault("responses", {})
            for code, response in responses.items():
                # An error a view names with its description only has the one shape too.
                if code[:1] in {"4", "5"} and "content" not in response:
                    response["content"] = {"application/json": {"schema": ref}}
            extra = dict(COMMON)
            if method in {"patch", "put", "delete"} and "If-Match" in str(op.get("parameters")):
                extra.update(CHANGES)
            for code, text in extra.items():
                responses.setdefault(
                    code,
                    {"description": text, "content": {"application/json": {"schema": ref}}},
                )
    return result
