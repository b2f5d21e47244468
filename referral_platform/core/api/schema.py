"""OpenAPI post-processing: every operation documents the error answers the whole API gives
(API.md "Errors"), in the one error shape, so the schema lists what clients really receive."""

from __future__ import annotations

from drf_spectacular import openapi
from rest_framework import serializers

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "Each problem by its field path, e.g. `events[3].type`.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}
REASONS = {
    "400": "The body is not JSON, or nested beyond parsing.",
    "401": "No API key, or an unknown or revoked one.",
    "403": "The key may not do this.",
    "404": "No such object for this tenant.",
    "409": "A conflict: an Idempotency-Key reused with another body or still in progress, or "
    "the operation's own (see its description).",
    "422": "Field validation failed: `fields` names each problem by its path.",
    "429": "Rate limited: retry after `Retry-After` seconds.",
}
WITH_BODY = {"post", "put", "patch"}


def add_error_responses(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, description in REASONS.items():
                if status in ("400", "409") and method not in WITH_BODY:
                    continue
                operation["responses"].setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": ref}},
                        **(
                            {"headers": {"Retry-After": {"schema": {"type": "integer"}}}}
                            if status == "429"
                            else {}
                        ),
                    },
                )
    return result


def paginate_lists(result, generator, request, public):
    """A GET answering a list answers it one page at a time (API.md: every list is
    cursor-paginated): `{"results": [...], "next": "<url or null>"}`."""
    for path_item in result.get("paths", {}).values():
        operation = path_item.get("get")
        if not isinstance(operation, dict):
            continue
        for media in operation.get("responses", {}).get("200", {}).get("content", {}).values():
            schema = media.get("schema") or {}
            if schema.get("type") == "array":
                media["schema"] = {
                    "type": "object",
                    "required": ["results", "next"],
                    "properties": {
                        "results": schema,
                        "next": {"type": "string", "format": "uri", "nullable": True},
                    },
                }
    return result


def blank_filters_ignored(result, generator, request, public):
    """An optional query parameter given empty (`?status=`) is ignored, as if absent: DRF
    reads a blank query value of a field that is not required as not given. So the schema
    allows the empty string there beside what the parameter otherwise takes."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for param in operation.get("parameters", []):
                if param.get("in") != "query" or param.get("required"):
                    continue
                schema = param.get("schema") or {}
                if schema.get("type") != "string":
                    continue
                param["schema"] = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
    return result


# A character Python's `str.strip` keeps, which DRF's trimming uses, in the schema's own
# (ECMAScript) regular expressions: their `\s` leaves out the separators U+001C-U+001F and
# U+0085, which Python strips, and takes in U+FEFF, which Python keeps.
NOT_STRIPPED = r"[^\s\x1c-\x1f\x85]|\ufeff"


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, saying what DRF enforces: a text field that may not be blank needs
    at least one character that is not white space (DRF trims, then refuses "")."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and type(field) in (serializers.CharField, serializers.EmailField)
            and not field.allow_blank
            and schema.get("type") == "string"
        ):
            schema.setdefault("minLength", 1)
            if field.trim_whitespace:
                schema.setdefault("pattern", NOT_STRIPPED)
        return schema
