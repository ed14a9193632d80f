"""An OpenAPI 3.1 document generated from the served signatures: one schema per model's raw row."""

from __future__ import annotations

from typing import Any

from modelport.core.schema import ColumnKind, ColumnSpec
from modelport.serving.http.oip import SERVER_VERSION
from modelport.serving.service import ServedModel, Service

_TYPES = {ColumnKind.FLOAT: {"type": "number"}, ColumnKind.INT: {"type": "integer"},
          ColumnKind.BOOL: {"type": "boolean"}, ColumnKind.STRING: {"type": "string"},
          ColumnKind.DATETIME: {"type": "string", "format": "date-time"}}

_ERROR = {"description": "error", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/Error"}}}}


def column_schema(spec: ColumnSpec) -> dict[str, Any]:
    schema: dict[str, Any] = dict(_TYPES.get(spec.kind, {}))
    if spec.kind is ColumnKind.CATEGORY:
        schema["enum"] = list(spec.levels or ())
    if spec.nullable:
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        else:
            schema["type"] = [schema["type"], "null"]
    return schema


def row_schema(served: ServedModel) -> dict[str, Any]:
    signature = served.model.signature
    return {"type": "object", "additionalProperties": False, "required": signature.names,
            "properties": {c.name: column_schema(c) for c in signature.inputs}}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _predictions(served: ServedModel) -> dict[str, Any]:
    return {"200": {"description": "one prediction per row", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"predictions": {"type": "array"}}}}}},
        "400": _ERROR, "404": _ERROR, "413": _ERROR, "422": _ERROR, "500": _ERROR, "503": _ERROR,
        "504": _ERROR}


def _model_paths(served: ServedModel, ref: dict[str, Any]) -> dict[str, Any]:
    name = served.name
    rows = {"type": "array", "items": ref}
    tensor = {"type": "object", "required": ["name", "shape", "datatype"], "properties": {
        "name": {"type": "string", "enum": served.model.signature.names},
        "shape": {"type": "array", "items": {"type": "integer"}},
        "datatype": {"type": "string"}, "data": {"type": "array"}}}
    v2_request = {"type": "object", "required": ["inputs"], "properties": {
        "id": {"type": "string"}, "inputs": {"type": "array", "items": tensor},
        "outputs": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}}}}}}
    return {
        f"/v2/models/{name}/infer": {"post": {
            "summary": f"Open Inference Protocol v2: predict with {name}",
            "requestBody": _json_body(v2_request), "responses": _predictions(served)}},
        f"/v1/models/{name}:predict": {"post": {
            "summary": f"KServe v1: predict with {name}",
            "requestBody": _json_body({"type": "object", "required": ["instances"],
                                       "properties": {"instances": rows}}),
            "responses": _predictions(served)}},
    }


def document(service: Service) -> dict[str, Any]:
    """The whole OpenAPI document for the models this service serves."""
    schemas: dict[str, Any] = {"Error": {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "string"}, "error_id": {"type": "string"},
        "problems": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "problem": {"type": "string"},
            "rows": {"type": "array", "items": {"type": "integer"}}}}}}}}
    paths: dict[str, Any] = {}
    first: dict[str, Any] | None = None
    for served in service.models:
        key = f"{served.name}_{served.version}_row".replace(".", "_")
        schemas[key] = row_schema(served)
        ref = {"$ref": f"#/components/schemas/{key}"}
        first = first or ref
        if f"/v2/models/{served.name}/infer" not in paths:
            paths.update(_model_paths(served, ref))
    if first is not None:
        rows = {"type": "array", "items": first}
        paths["/invocations"] = {"post": {
            "summary": "MLflow scoring with the first model (or the Modelport-Model header's)",
            "requestBody": _json_body({"type": "object", "properties": {
                "dataframe_records": rows, "instances": rows,
                "dataframe_split": {"type": "object", "properties": {
                    "columns": {"type": "array", "items": {"type": "string"}},
                    "data": {"type": "array", "items": {"type": "array"}}}},
                "inputs": {"type": "object"}}}),
            "responses": _predictions(service.default())}}
    return {"openapi": "3.1.0", "info": {"title": "modelport", "version": SERVER_VERSION},
            "paths": paths, "components": {"schemas": schemas}}
