"""A protobuf schema for pprof's profile.proto (package perftools.profiles), built as a
FileDescriptorProto so the tests need no protoc. Field numbers and types follow
github.com/google/pprof/proto/profile.proto."""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool

try:
    from google.protobuf.message_factory import GetMessageClass
except ImportError:  # protobuf < 4.21
    GetMessageClass = None
    from google.protobuf import message_factory

F = descriptor_pb2.FieldDescriptorProto
OPT, REP = F.LABEL_OPTIONAL, F.LABEL_REPEATED
I64, U64, STR, BOOL, MSG = F.TYPE_INT64, F.TYPE_UINT64, F.TYPE_STRING, F.TYPE_BOOL, F.TYPE_MESSAGE

MESSAGES = {
    "Profile": [
        ("sample_type", 1, REP, "ValueType"), ("sample", 2, REP, "Sample"), ("mapping", 3, REP, "Mapping"),
        ("location", 4, REP, "Location"), ("function", 5, REP, "Function"), ("string_table", 6, REP, STR),
        ("drop_frames", 7, OPT, I64), ("keep_frames", 8, OPT, I64), ("time_nanos", 9, OPT, I64),
        ("duration_nanos", 10, OPT, I64), ("period_type", 11, OPT, "ValueType"), ("period", 12, OPT, I64),
        ("comment", 13, REP, I64), ("default_sample_type", 14, OPT, I64),
    ],
    "ValueType": [("type", 1, OPT, I64), ("unit", 2, OPT, I64)],
    "Sample": [("location_id", 1, REP, U64), ("value", 2, REP, I64), ("label", 3, REP, "Label")],
    "Label": [("key", 1, OPT, I64), ("str", 2, OPT, I64), ("num", 3, OPT, I64), ("num_unit", 4, OPT, I64)],
    "Mapping": [
        ("id", 1, OPT, U64), ("memory_start", 2, OPT, U64), ("memory_limit", 3, OPT, U64),
        ("file_offset", 4, OPT, U64), ("filename", 5, OPT, I64), ("build_id", 6, OPT, I64),
        ("has_functions", 7, OPT, BOOL), ("has_filenames", 8, OPT, BOOL),
        ("has_line_numbers", 9, OPT, BOOL), ("has_inline_frames", 10, OPT, BOOL),
    ],
    "Location": [("id", 1, OPT, U64), ("mapping_id", 2, OPT, U64), ("address", 3, OPT, U64),
                 ("line", 4, REP, "Line"), ("is_folded", 5, OPT, BOOL)],
    "Line": [("function_id", 1, OPT, U64), ("line", 2, OPT, I64), ("column", 3, OPT, I64)],
    "Function": [("id", 1, OPT, U64), ("name", 2, OPT, I64), ("system_name", 3, OPT, I64),
                 ("filename", 4, OPT, I64), ("start_line", 5, OPT, I64)],
}


def _build():
    fdp = descriptor_pb2.FileDescriptorProto(name="test_profile.proto", package="perftools.profiles",
                                             syntax="proto3")
    for name, fields in MESSAGES.items():
        msg = fdp.message_type.add(name=name)
        for fname, number, label, ftype in fields:
            field = msg.field.add(name=fname, number=number, label=label)
            if isinstance(ftype, str):
                field.type = MSG
                field.type_name = f".perftools.profiles.{ftype}"
            else:
                field.type = ftype
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    desc = pool.FindMessageTypeByName("perftools.profiles.Profile")
    if GetMessageClass is not None:
        return GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


Profile = _build()
