"""The OpAMP protobuf messages, built when this module is imported.

The schema is our own transcription of opamp-spec's ``proto/opamp/v1/opamp.proto`` and
``anyvalue.proto`` (field names, numbers and types; spec v0.18), written as a table below and
turned into a ``FileDescriptorProto`` in a private descriptor pool. No protoc, no generated
``_pb2`` file to keep in step with the protobuf runtime, no clash with other copies of the same
schema in the process (the official client's ``opentelemetry._opamp.proto`` registers package
``opamp.proto`` in the default pool; ours is ``opamp.proto.v1`` in a pool of its own).

Transcribed: everything a configuration rollout reads or writes. Left out (they survive a parse
and re-serialisation as unknown fields, and the server never sets them): package offers and
statuses, connection-settings offers, requests and statuses, available components. The message
classes are module attributes (``AgentToServer``, ``ServerToAgent``, ...), as in generated code.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PACKAGE = "opamp.proto.v1"
_F = descriptor_pb2.FieldDescriptorProto

# Field kinds: scalars by protobuf type name, messages and enums by their (short) name.
_SCALARS = {
    "bytes": _F.TYPE_BYTES, "string": _F.TYPE_STRING, "uint64": _F.TYPE_UINT64,
    "int64": _F.TYPE_INT64, "bool": _F.TYPE_BOOL, "double": _F.TYPE_DOUBLE,
    "fixed64": _F.TYPE_FIXED64, "uint32": _F.TYPE_UINT32,
}

# message -> [(field name, number, type, "repeated"/"map"/"" , oneof name or "")]
# A "map" field's type is "key_type:value_type".
_MESSAGES: dict[str, list[tuple[str, int, str, str, str]]] = {
    # anyvalue.proto
    "AnyValue": [
        ("string_value", 1, "string", "", "value"), ("bool_value", 2, "bool", "", "value"),
        ("int_value", 3, "int64", "", "value"), ("double_value", 4, "double", "", "value"),
        ("array_value", 5, "ArrayValue", "", "value"),
        ("kvlist_value", 6, "KeyValueList", "", "value"),
        ("bytes_value", 7, "bytes", "", "value"),
    ],
    "ArrayValue": [("values", 1, "AnyValue", "repeated", "")],
    "KeyValueList": [("values", 1, "KeyValue", "repeated", "")],
    "KeyValue": [("key", 1, "string", "", ""), ("value", 2, "AnyValue", "", "")],
    # opamp.proto
    "AgentToServer": [
        ("instance_uid", 1, "bytes", "", ""), ("sequence_num", 2, "uint64", "", ""),
        ("agent_description", 3, "AgentDescription", "", ""),
        ("capabilities", 4, "uint64", "", ""), ("health", 5, "ComponentHealth", "", ""),
        ("effective_config", 6, "EffectiveConfig", "", ""),
        ("remote_config_status", 7, "RemoteConfigStatus", "", ""),
        ("agent_disconnect", 9, "AgentDisconnect", "", ""), ("flags", 10, "uint64", "", ""),
        ("custom_capabilities", 12, "CustomCapabilities", "", ""),
        ("custom_message", 13, "CustomMessage", "", ""),
    ],
    "AgentDisconnect": [],
    "ServerToAgent": [
        ("instance_uid", 1, "bytes", "", ""),
        ("error_response", 2, "ServerErrorResponse", "", ""),
        ("remote_config", 3, "AgentRemoteConfig", "", ""), ("flags", 6, "uint64", "", ""),
        ("capabilities", 7, "uint64", "", ""),
        ("agent_identification", 8, "AgentIdentification", "", ""),
        ("command", 9, "ServerToAgentCommand", "", ""),
        ("custom_capabilities", 10, "CustomCapabilities", "", ""),
        ("custom_message", 11, "CustomMessage", "", ""),
    ],
    "ServerErrorResponse": [
        ("type", 1, "ServerErrorResponseType", "", ""), ("error_message", 2, "string", "", ""),
        ("retry_info", 3, "RetryInfo", "", "Details"),
    ],
    "RetryInfo": [("retry_after_nanoseconds", 1, "uint64", "", "")],
    "ServerToAgentCommand": [("type", 1, "CommandType", "", "")],
    "AgentDescription": [
        ("identifying_attributes", 1, "KeyValue", "repeated", ""),
        ("non_identifying_attributes", 2, "KeyValue", "repeated", ""),
    ],
    "ComponentHealth": [
        ("healthy", 1, "bool", "", ""), ("start_time_unix_nano", 2, "fixed64", "", ""),
        ("last_error", 3, "string", "", ""), ("status", 4, "string", "", ""),
        ("status_time_unix_nano", 5, "fixed64", "", ""),
        ("component_health_map", 6, "string:ComponentHealth", "map", ""),
        ("attributes", 7, "KeyValue", "repeated", ""),
    ],
    "EffectiveConfig": [("config_map", 1, "AgentConfigMap", "", "")],
    "RemoteConfigStatus": [
        ("last_remote_config_hash", 1, "bytes", "", ""),
        ("status", 2, "RemoteConfigStatuses", "", ""), ("error_message", 3, "string", "", ""),
    ],
    "AgentIdentification": [("new_instance_uid", 1, "bytes", "", "")],
    "AgentRemoteConfig": [
        ("config", 1, "AgentConfigMap", "", ""), ("config_hash", 2, "bytes", "", ""),
    ],
    "AgentConfigMap": [("config_map", 1, "string:AgentConfigFile", "map", "")],
    "AgentConfigFile": [("body", 1, "bytes", "", ""), ("content_type", 2, "string", "", "")],
    "CustomCapabilities": [("capabilities", 1, "string", "repeated", "")],
    "CustomMessage": [
        ("capability", 1, "string", "", ""), ("type", 2, "string", "", ""),
        ("data", 3, "bytes", "", ""),
    ],
}

_ENUMS: dict[str, list[tuple[str, int]]] = {
    "AgentToServerFlags": [("AgentToServerFlags_Unspecified", 0),
                           ("AgentToServerFlags_RequestInstanceUid", 1)],
    "ServerToAgentFlags": [("ServerToAgentFlags_Unspecified", 0),
                           ("ServerToAgentFlags_ReportFullState", 1),
                           ("ServerToAgentFlags_ReportAvailableComponents", 2)],
    "ServerCapabilities": [
        ("ServerCapabilities_Unspecified", 0), ("ServerCapabilities_AcceptsStatus", 0x1),
        ("ServerCapabilities_OffersRemoteConfig", 0x2),
        ("ServerCapabilities_AcceptsEffectiveConfig", 0x4),
        ("ServerCapabilities_OffersPackages", 0x8),
        ("ServerCapabilities_AcceptsPackagesStatus", 0x10),
        ("ServerCapabilities_OffersConnectionSettings", 0x20),
        ("ServerCapabilities_AcceptsConnectionSettingsRequest", 0x40),
    ],
    "AgentCapabilities": [
        ("AgentCapabilities_Unspecified", 0), ("AgentCapabilities_ReportsStatus", 0x1),
        ("AgentCapabilities_AcceptsRemoteConfig", 0x2),
        ("AgentCapabilities_ReportsEffectiveConfig", 0x4),
        ("AgentCapabilities_AcceptsPackages", 0x8),
        ("AgentCapabilities_ReportsPackageStatuses", 0x10),
        ("AgentCapabilities_ReportsOwnTraces", 0x20),
        ("AgentCapabilities_ReportsOwnMetrics", 0x40),
        ("AgentCapabilities_ReportsOwnLogs", 0x80),
        ("AgentCapabilities_AcceptsOpAMPConnectionSettings", 0x100),
        ("AgentCapabilities_AcceptsOtherConnectionSettings", 0x200),
        ("AgentCapabilities_AcceptsRestartCommand", 0x400),
        ("AgentCapabilities_ReportsHealth", 0x800),
        ("AgentCapabilities_ReportsRemoteConfig", 0x1000),
        ("AgentCapabilities_ReportsHeartbeat", 0x2000),
        ("AgentCapabilities_ReportsAvailableComponents", 0x4000),
        ("AgentCapabilities_ReportsConnectionSettingsStatus", 0x8000),
    ],
    "ServerErrorResponseType": [("ServerErrorResponseType_Unknown", 0),
                                ("ServerErrorResponseType_BadRequest", 1),
                                ("ServerErrorResponseType_Unavailable", 2)],
    "CommandType": [("CommandType_Restart", 0)],
    "RemoteConfigStatuses": [("RemoteConfigStatuses_UNSET", 0),
                             ("RemoteConfigStatuses_APPLIED", 1),
                             ("RemoteConfigStatuses_APPLYING", 2),
                             ("RemoteConfigStatuses_FAILED", 3)],
}


def _set_type(field: Any, type_name: str) -> None:
    if type_name in _SCALARS:
        field.type = _SCALARS[type_name]
    elif type_name in _ENUMS:
        field.type = _F.TYPE_ENUM
        field.type_name = f".{PACKAGE}.{type_name}"
    else:
        field.type = _F.TYPE_MESSAGE
        field.type_name = f".{PACKAGE}.{type_name}"


def _file() -> descriptor_pb2.FileDescriptorProto:
    fd = descriptor_pb2.FileDescriptorProto(name="ottl_opamp/opamp.proto", package=PACKAGE,
                                            syntax="proto3")
    for name, values in _ENUMS.items():
        e = fd.enum_type.add(name=name)
        for vname, number in values:
            e.value.add(name=vname, number=number)
    for name, fields in _MESSAGES.items():
        m = fd.message_type.add(name=name)
        oneofs: dict[str, int] = {}
        for fname, number, ftype, kind, oneof in fields:
            f = m.field.add(name=fname, number=number, json_name=_json_name(fname))
            if kind == "map":
                key_type, value_type = ftype.split(":")
                entry_name = "".join(p.capitalize() for p in fname.split("_")) + "Entry"
                entry = m.nested_type.add(name=entry_name)
                entry.options.map_entry = True
                k = entry.field.add(name="key", number=1, label=_F.LABEL_OPTIONAL,
                                    json_name="key")
                _set_type(k, key_type)
                v = entry.field.add(name="value", number=2, label=_F.LABEL_OPTIONAL,
                                    json_name="value")
                _set_type(v, value_type)
                f.label = _F.LABEL_REPEATED
                f.type = _F.TYPE_MESSAGE
                f.type_name = f".{PACKAGE}.{name}.{entry_name}"
                continue
            f.label = _F.LABEL_REPEATED if kind == "repeated" else _F.LABEL_OPTIONAL
            _set_type(f, ftype)
            if oneof:
                if oneof not in oneofs:
                    oneofs[oneof] = len(m.oneof_decl)
                    m.oneof_decl.add(name=oneof)
                f.oneof_index = oneofs[oneof]
    return fd


def _json_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


POOL = descriptor_pool.DescriptorPool()
FILE = POOL.Add(_file())
_CLASSES = message_factory.GetMessages([_file()], pool=POOL)

AnyValue: Any = _CLASSES[f"{PACKAGE}.AnyValue"]
ArrayValue: Any = _CLASSES[f"{PACKAGE}.ArrayValue"]
KeyValueList: Any = _CLASSES[f"{PACKAGE}.KeyValueList"]
KeyValue: Any = _CLASSES[f"{PACKAGE}.KeyValue"]
AgentToServer: Any = _CLASSES[f"{PACKAGE}.AgentToServer"]
AgentDisconnect: Any = _CLASSES[f"{PACKAGE}.AgentDisconnect"]
ServerToAgent: Any = _CLASSES[f"{PACKAGE}.ServerToAgent"]
ServerErrorResponse: Any = _CLASSES[f"{PACKAGE}.ServerErrorResponse"]
RetryInfo: Any = _CLASSES[f"{PACKAGE}.RetryInfo"]
AgentDescription: Any = _CLASSES[f"{PACKAGE}.AgentDescription"]
ComponentHealth: Any = _CLASSES[f"{PACKAGE}.ComponentHealth"]
EffectiveConfig: Any = _CLASSES[f"{PACKAGE}.EffectiveConfig"]
RemoteConfigStatus: Any = _CLASSES[f"{PACKAGE}.RemoteConfigStatus"]
AgentIdentification: Any = _CLASSES[f"{PACKAGE}.AgentIdentification"]
AgentRemoteConfig: Any = _CLASSES[f"{PACKAGE}.AgentRemoteConfig"]
AgentConfigMap: Any = _CLASSES[f"{PACKAGE}.AgentConfigMap"]
AgentConfigFile: Any = _CLASSES[f"{PACKAGE}.AgentConfigFile"]
CustomCapabilities: Any = _CLASSES[f"{PACKAGE}.CustomCapabilities"]
CustomMessage: Any = _CLASSES[f"{PACKAGE}.CustomMessage"]

# Enum values, named as in the spec's generated code (a test checks them against the table).
AgentToServerFlags_Unspecified: int = 0
AgentToServerFlags_RequestInstanceUid: int = 1
ServerToAgentFlags_Unspecified: int = 0
ServerToAgentFlags_ReportFullState: int = 1
ServerToAgentFlags_ReportAvailableComponents: int = 2
ServerCapabilities_Unspecified: int = 0
ServerCapabilities_AcceptsStatus: int = 1
ServerCapabilities_OffersRemoteConfig: int = 2
ServerCapabilities_AcceptsEffectiveConfig: int = 4
ServerCapabilities_OffersPackages: int = 8
ServerCapabilities_AcceptsPackagesStatus: int = 0x10
ServerCapabilities_OffersConnectionSettings: int = 0x20
ServerCapabilities_AcceptsConnectionSettingsRequest: int = 0x40
AgentCapabilities_Unspecified: int = 0
AgentCapabilities_ReportsStatus: int = 1
AgentCapabilities_AcceptsRemoteConfig: int = 2
AgentCapabilities_ReportsEffectiveConfig: int = 4
AgentCapabilities_AcceptsPackages: int = 8
AgentCapabilities_ReportsPackageStatuses: int = 0x10
AgentCapabilities_ReportsOwnTraces: int = 0x20
AgentCapabilities_ReportsOwnMetrics: int = 0x40
AgentCapabilities_ReportsOwnLogs: int = 0x80
AgentCapabilities_AcceptsOpAMPConnectionSettings: int = 0x100
AgentCapabilities_AcceptsOtherConnectionSettings: int = 0x200
AgentCapabilities_AcceptsRestartCommand: int = 0x400
AgentCapabilities_ReportsHealth: int = 0x800
AgentCapabilities_ReportsRemoteConfig: int = 0x1000
AgentCapabilities_ReportsHeartbeat: int = 0x2000
AgentCapabilities_ReportsAvailableComponents: int = 0x4000
AgentCapabilities_ReportsConnectionSettingsStatus: int = 0x8000
ServerErrorResponseType_Unknown: int = 0
ServerErrorResponseType_BadRequest: int = 1
ServerErrorResponseType_Unavailable: int = 2
CommandType_Restart: int = 0
RemoteConfigStatuses_UNSET: int = 0
RemoteConfigStatuses_APPLIED: int = 1
RemoteConfigStatuses_APPLYING: int = 2
RemoteConfigStatuses_FAILED: int = 3
