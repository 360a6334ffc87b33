"""The Functions host protocol's messages, as far as azure-functions-runtime uses them: real protobuf classes.

Runs under Python 3.13 (.venv313, with `protobuf` from requirements-indexing.txt), imported by
tests/helpers/worker_proxy.py, which hands this module to the library as the `protos` the Python 3.13 proxy worker
passes it (`request.properties["protos"]`).

The descriptors are built here from the table below, this project's own subset of the host protocol. Message names,
field names, field numbers, types and enum values follow FunctionRpc.proto as the Functions host ships it:
    Azure/azure-functions-host, src/WebJobs.Script.Grpc/azure-functions-language-worker-protobuf/src/proto/
    FunctionRpc.proto, at host commit 89dc438d476542786f2fc4070f553423213a6223 (the file last changed in
    eaaab6ed8cae9b18c0d4e2830bf6b31915db4fff), package `AzureFunctionsRpcMessages`.
Only the messages and fields the library reads or writes (handle_event.py, loader.py, functions.py,
bindings/datumdef.py, bindings/meta.py, bindings/context.py, utils/helpers.py, utils/tracing.py) and the ones the
harness itself exchanges are declared; a field left out is absent here, not different. Left out on purpose:
RpcHttpCookie's NullableTypes.proto fields (the library fills them only for a response with Set-Cookie headers,
which no function of this app sends: such a response would fail here, loudly), the typed-data collections, model
binding data and shared memory (the host sends them only for bindings this app does not use), RpcClaimsIdentity
(it needs ClaimsIdentityRpc.proto; the host sends the request's claims identities, which the library's HTTP
conversion, bindings/datumdef.py, never reads, so the harness sends none) and the nullable HTTP maps (sent only
when the worker declares a capability the library does not declare).
"""
from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, duration_pb2, message_factory

PACKAGE = "AzureFunctionsRpcMessages"

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {"string": _F.TYPE_STRING, "bytes": _F.TYPE_BYTES, "bool": _F.TYPE_BOOL, "int32": _F.TYPE_INT32,
            "int64": _F.TYPE_INT64, "sint64": _F.TYPE_SINT64, "double": _F.TYPE_DOUBLE}

# message -> fields (name, number, type, label); type is a scalar, a message or enum name of this package, or
# "map<key,value>"; label "repeated" or "" ; a field named "oneof:<name>/<field>" belongs to that oneof.
# Nested enums: ENUMS[(message, enum)] = [(value name, number), ...].
MESSAGES: dict[str, list[tuple[str, int, str, str]]] = {
    "StreamingMessage": [
        ("request_id", 1, "string", ""),
        ("oneof:content/start_stream", 20, "StartStream", ""),
        ("oneof:content/worker_init_request", 17, "WorkerInitRequest", ""),
        ("oneof:content/worker_init_response", 16, "WorkerInitResponse", ""),
        ("oneof:content/function_load_request", 8, "FunctionLoadRequest", ""),
        ("oneof:content/function_load_response", 9, "FunctionLoadResponse", ""),
        ("oneof:content/invocation_request", 4, "InvocationRequest", ""),
        ("oneof:content/invocation_response", 5, "InvocationResponse", ""),
        ("oneof:content/rpc_log", 2, "RpcLog", ""),
        ("oneof:content/functions_metadata_request", 29, "FunctionsMetadataRequest", ""),
        ("oneof:content/function_metadata_response", 30, "FunctionMetadataResponse", ""),
    ],
    "StartStream": [("worker_id", 2, "string", "")],
    "WorkerInitRequest": [
        ("host_version", 1, "string", ""),
        ("capabilities", 2, "map<string,string>", ""),
        ("worker_directory", 4, "string", ""),
        ("function_app_directory", 5, "string", ""),
    ],
    "WorkerInitResponse": [
        ("worker_version", 1, "string", ""),
        ("capabilities", 2, "map<string,string>", ""),
        ("result", 3, "StatusResult", ""),
        ("worker_metadata", 4, "WorkerMetadata", ""),
    ],
    "WorkerMetadata": [
        ("runtime_name", 1, "string", ""),
        ("runtime_version", 2, "string", ""),
        ("worker_version", 3, "string", ""),
        ("worker_bitness", 4, "string", ""),
        ("custom_properties", 5, "map<string,string>", ""),
    ],
    "StatusResult": [
        ("status", 4, "StatusResult.Status", ""),
        ("result", 1, "string", ""),
        ("exception", 2, "RpcException", ""),
        ("logs", 3, "RpcLog", "repeated"),
    ],
    "FunctionLoadRequest": [
        ("function_id", 1, "string", ""),
        ("metadata", 2, "RpcFunctionMetadata", ""),
        ("managed_dependency_enabled", 3, "bool", ""),
    ],
    "FunctionLoadResponse": [
        ("function_id", 1, "string", ""),
        ("result", 2, "StatusResult", ""),
        ("is_dependency_downloaded", 3, "bool", ""),
    ],
    "RpcFunctionMetadata": [
        ("name", 4, "string", ""),
        ("directory", 1, "string", ""),
        ("script_file", 2, "string", ""),
        ("entry_point", 3, "string", ""),
        ("bindings", 6, "map<string,BindingInfo>", ""),
        ("is_proxy", 7, "bool", ""),
        ("status", 8, "StatusResult", ""),
        ("language", 9, "string", ""),
        ("raw_bindings", 10, "string", "repeated"),
        ("function_id", 13, "string", ""),
        ("managed_dependency_enabled", 14, "bool", ""),
        ("retry_options", 15, "RpcRetryOptions", ""),
        ("properties", 16, "map<string,string>", ""),
    ],
    "FunctionsMetadataRequest": [("function_app_directory", 1, "string", "")],
    "FunctionMetadataResponse": [
        ("function_metadata_results", 1, "RpcFunctionMetadata", "repeated"),
        ("result", 2, "StatusResult", ""),
        ("use_default_metadata_indexing", 3, "bool", ""),
    ],
    "InvocationRequest": [
        ("invocation_id", 1, "string", ""),
        ("function_id", 2, "string", ""),
        ("input_data", 3, "ParameterBinding", "repeated"),
        ("trigger_metadata", 4, "map<string,TypedData>", ""),
        ("trace_context", 5, "RpcTraceContext", ""),
        ("retry_context", 6, "RetryContext", ""),
    ],
    "RpcTraceContext": [
        ("trace_parent", 1, "string", ""),
        ("trace_state", 2, "string", ""),
        ("attributes", 3, "map<string,string>", ""),
    ],
    "RetryContext": [
        ("retry_count", 1, "int32", ""),
        ("max_retry_count", 2, "int32", ""),
        ("exception", 3, "RpcException", ""),
    ],
    "InvocationResponse": [
        ("invocation_id", 1, "string", ""),
        ("output_data", 2, "ParameterBinding", "repeated"),
        ("return_value", 4, "TypedData", ""),
        ("result", 3, "StatusResult", ""),
    ],
    "TypedData": [
        ("oneof:data/string", 1, "string", ""),
        ("oneof:data/json", 2, "string", ""),
        ("oneof:data/bytes", 3, "bytes", ""),
        ("oneof:data/stream", 4, "bytes", ""),
        ("oneof:data/http", 5, "RpcHttp", ""),
        ("oneof:data/int", 6, "sint64", ""),
        ("oneof:data/double", 7, "double", ""),
    ],
    "ParameterBinding": [
        ("name", 1, "string", ""),
        ("oneof:rpc_data/data", 2, "TypedData", ""),
    ],
    "BindingInfo": [
        ("type", 2, "string", ""),
        ("direction", 3, "BindingInfo.Direction", ""),
        ("data_type", 4, "BindingInfo.DataType", ""),
        ("properties", 5, "map<string,string>", ""),
    ],
    "RpcLog": [
        ("invocation_id", 1, "string", ""),
        ("category", 2, "string", ""),
        ("level", 3, "RpcLog.Level", ""),
        ("message", 4, "string", ""),
        ("event_id", 5, "string", ""),
        ("exception", 6, "RpcException", ""),
        ("properties", 7, "string", ""),
        ("log_category", 8, "RpcLog.RpcLogCategory", ""),
    ],
    "RpcException": [
        ("source", 3, "string", ""),
        ("stack_trace", 1, "string", ""),
        ("message", 2, "string", ""),
        ("is_user_exception", 4, "bool", ""),
        ("type", 5, "string", ""),
    ],
    "RpcHttp": [
        ("method", 1, "string", ""),
        ("url", 2, "string", ""),
        ("headers", 3, "map<string,string>", ""),
        ("body", 4, "TypedData", ""),
        ("params", 10, "map<string,string>", ""),
        ("status_code", 12, "string", ""),
        ("query", 15, "map<string,string>", ""),
        ("enable_content_negotiation", 16, "bool", ""),
        ("rawBody", 17, "TypedData", ""),
        ("cookies", 19, "RpcHttpCookie", "repeated"),
    ],
    # Without its NullableTypes.proto fields (domain 3, path 4, expires 5, secure 6, http_only 7, max_age 9): the
    # library always passes `cookies` (None without Set-Cookie headers), so the field must exist.
    "RpcHttpCookie": [
        ("name", 1, "string", ""),
        ("value", 2, "string", ""),
        ("same_site", 8, "RpcHttpCookie.SameSite", ""),
    ],
    "RpcRetryOptions": [
        ("max_retry_count", 2, "int32", ""),
        ("delay_interval", 3, ".google.protobuf.Duration", ""),
        ("minimum_interval", 4, ".google.protobuf.Duration", ""),
        ("maximum_interval", 5, ".google.protobuf.Duration", ""),
        ("retry_strategy", 6, "RpcRetryOptions.RetryStrategy", ""),
    ],
}

ENUMS: dict[tuple[str, str], list[tuple[str, int]]] = {
    ("StatusResult", "Status"): [("Failure", 0), ("Success", 1), ("Cancelled", 2)],
    ("BindingInfo", "Direction"): [("in", 0), ("out", 1), ("inout", 2)],
    ("BindingInfo", "DataType"): [("undefined", 0), ("string", 1), ("binary", 2), ("stream", 3)],
    ("RpcLog", "Level"): [("Trace", 0), ("Debug", 1), ("Information", 2), ("Warning", 3), ("Error", 4),
                          ("Critical", 5), ("None", 6)],
    ("RpcLog", "RpcLogCategory"): [("User", 0), ("System", 1), ("CustomMetric", 2)],
    ("RpcHttpCookie", "SameSite"): [("None", 0), ("Lax", 1), ("Strict", 2), ("ExplicitNone", 3)],
    ("RpcRetryOptions", "RetryStrategy"): [("exponential_backoff", 0), ("fixed_delay", 1)],
}


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _type_name(name: str) -> str:
    return name if name.startswith(".") else f".{PACKAGE}.{name}"


def _set_type(field: Any, kind: str) -> None:
    if kind in _SCALARS:
        field.type = _SCALARS[kind]
    elif tuple(kind.split(".")) in ENUMS:
        field.type = _F.TYPE_ENUM
        field.type_name = _type_name(kind)
    else:
        field.type = _F.TYPE_MESSAGE
        field.type_name = _type_name(kind)


def _file() -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto(name="functions_worker_subset.proto", package=PACKAGE,
                                               syntax="proto3", dependency=["google/protobuf/duration.proto"])
    for message_name, fields in MESSAGES.items():
        message = proto.message_type.add(name=message_name)
        oneofs: dict[str, int] = {}
        for name, number, kind, label in fields:
            oneof = None
            if name.startswith("oneof:"):
                oneof, name = name[len("oneof:"):].split("/")
                if oneof not in oneofs:
                    oneofs[oneof] = len(message.oneof_decl)
                    message.oneof_decl.add(name=oneof)
            field = message.field.add(name=name, number=number, json_name=name)
            if kind.startswith("map<"):
                key, value = kind[4:-1].split(",")
                entry = message.nested_type.add(name=f"{_camel(name)}Entry")
                entry.options.map_entry = True
                _set_type(entry.field.add(name="key", number=1, label=_F.LABEL_OPTIONAL, json_name="key"), key)
                _set_type(entry.field.add(name="value", number=2, label=_F.LABEL_OPTIONAL, json_name="value"), value)
                field.label = _F.LABEL_REPEATED
                field.type = _F.TYPE_MESSAGE
                field.type_name = f".{PACKAGE}.{message_name}.{entry.name}"
                continue
            field.label = _F.LABEL_REPEATED if label == "repeated" else _F.LABEL_OPTIONAL
            _set_type(field, kind)
            if oneof is not None:
                field.oneof_index = oneofs[oneof]
        for (owner, enum_name), values in ENUMS.items():
            if owner == message_name:
                enum = message.enum_type.add(name=enum_name)
                for value_name, value_number in values:
                    enum.value.add(name=value_name, number=value_number)
    return proto


_pool = descriptor_pool.DescriptorPool()
_pool.AddSerializedFile(duration_pb2.DESCRIPTOR.serialized_pb)
_pool.AddSerializedFile(_file().SerializeToString())

# protos.<Message>: the classes the library instantiates (protos.StatusResult.Success, protos.BindingInfo.out, …).
for _name in MESSAGES:
    globals()[_name] = message_factory.GetMessageClass(_pool.FindMessageTypeByName(f"{PACKAGE}.{_name}"))

__all__ = list(MESSAGES)
