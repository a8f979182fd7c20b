# cython: language_level=3
"""C declarations of the columnar batches and the OTLP codec (csrc/otlp_batch.h), and the
cdef classes of ottl/_batch.pyx. All foreign declarations live here, in one place."""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t


cdef extern from "otlp_batch.h" nogil:
    enum:
        OTTL_V_EMPTY
        OTTL_V_STRING
        OTTL_V_BOOL
        OTTL_V_INT
        OTTL_V_DOUBLE
        OTTL_V_ARRAY
        OTTL_V_KVLIST
        OTTL_V_BYTES
        OTTL_V_STRINDEX
        OTTL_V_NONE
        OTTL_V_ABSENT
        OTTL_P_TRACE_ID
        OTTL_P_SPAN_ID
        OTTL_P_PARENT_ID
        OTTL_P_STATUS
        OTTL_P_IRR_TRACE_ID
        OTTL_P_IRR_SPAN_ID
        OTTL_P_IRR_PARENT_ID
        OTTL_BATCH_SPANS
        OTTL_BATCH_LOGS
        OTTL_OWNER_SPAN
        OTTL_OWNER_LINK
        OTTL_OWNER_LOG
        OTTL_DECODE_OK
        OTTL_DECODE_MALFORMED
        OTTL_DECODE_NOMEM

    ctypedef struct ottl_strtab:
        char *arena
        size_t arena_len
        int64_t *off
        uint32_t *hash
        uint8_t *utf8
        size_t count

    ctypedef struct ottl_kvpool:
        int32_t *key
        uint8_t *tag
        int64_t *val
        int32_t *src
        size_t n
        uint8_t unique

    ctypedef struct ottl_resources:
        uint8_t *present
        uint32_t *dropped
        int32_t *schema_url
        int64_t *attr_off
        int64_t *scope_off
        int64_t *entity_off
        size_t n

    ctypedef struct ottl_scopes:
        int32_t *resource
        uint8_t *present
        int32_t *name
        int32_t *version
        int32_t *schema_url
        uint32_t *dropped
        int64_t *attr_off
        int64_t *rec_off
        size_t n

    ctypedef struct ottl_spans:
        int32_t *scope
        int32_t *resource
        uint8_t *trace_id
        uint8_t *span_id
        uint8_t *parent_span_id
        uint8_t *present
        int32_t *trace_state
        int32_t *name
        int32_t *status_message
        uint32_t *flags
        int32_t *kind
        int32_t *status_code
        uint64_t *start_time
        uint64_t *end_time
        uint32_t *dropped_attrs
        uint32_t *dropped_events
        uint32_t *dropped_links
        int64_t *attr_off
        int64_t *event_off
        int64_t *link_off
        int64_t *byte_start
        int64_t *byte_end
        int64_t *attrs_at
        int64_t *attrs_end
        size_t n

    ctypedef struct ottl_events:
        uint64_t *time
        int32_t *name
        uint32_t *dropped
        int64_t *attr_off
        size_t n

    ctypedef struct ottl_links:
        uint8_t *trace_id
        uint8_t *span_id
        uint8_t *present
        int32_t *trace_state
        uint32_t *flags
        uint32_t *dropped
        int64_t *attr_off
        size_t n

    ctypedef struct ottl_logs:
        int32_t *scope
        int32_t *resource
        uint64_t *time
        uint64_t *observed_time
        int32_t *severity_number
        int32_t *severity_text
        int32_t *event_name
        uint8_t *body_tag
        int64_t *body
        uint32_t *dropped
        uint32_t *flags
        uint8_t *trace_id
        uint8_t *span_id
        uint8_t *present
        int64_t *attr_off
        int64_t *byte_start
        int64_t *byte_end
        int64_t *attrs_at
        int64_t *attrs_end
        size_t n

    ctypedef struct ottl_irregular:
        uint8_t *owner
        uint8_t *field
        int32_t *row
        int32_t *sid
        size_t n

    ctypedef struct ottl_batch:
        int kind
        ottl_strtab strings
        ottl_resources resources
        ottl_scopes scopes
        ottl_kvpool resource_attrs
        ottl_kvpool scope_attrs
        ottl_kvpool values
        int32_t *entity_refs
        size_t entity_n
        ottl_irregular irregular
        ottl_spans spans
        ottl_events events
        ottl_links links
        ottl_kvpool span_attrs
        ottl_kvpool event_attrs
        ottl_kvpool link_attrs
        ottl_logs logs
        ottl_kvpool log_attrs
        size_t input_len
        uint8_t frames_minimal
        size_t unknown_fields
        uint8_t *dirty
        uint8_t attrs_projected

    ctypedef struct ottl_decode_error:
        int code
        int64_t offset
        char path[4096]
        char message[256]

    ctypedef struct ottl_decode_options:
        int64_t max_string_length
        int64_t max_attributes
        int threads

    void ottl_batch_free(ottl_batch *b)
    void ottl_decode_free_spares()
    void ottl_decode_set_part_min_bytes(size_t n)
    int ottl_decode_into(ottl_batch *reuse, int kind, const uint8_t *data, size_t len,
                         const ottl_decode_options *opt, ottl_batch **out,
                         ottl_decode_error *err)
    int ottl_decode_traces(const uint8_t *data, size_t len, const ottl_decode_options *opt,
                           ottl_batch **out, ottl_decode_error *err)
    int ottl_decode_logs(const uint8_t *data, size_t len, const ottl_decode_options *opt,
                         ottl_batch **out, ottl_decode_error *err)
    ctypedef struct ottl_projection:
        const char *const *keys
        const size_t *lens
        size_t n
        int keep_others
    enum: OTTL_MAX_PROJECTED_KEYS
    int ottl_decode_projected(ottl_batch *reuse, int kind, const uint8_t *data, size_t len,
                              const ottl_decode_options *opt, const ottl_projection *proj,
                              ottl_batch **out, ottl_decode_error *err)
    int ottl_encode(const ottl_batch *b, const uint8_t *mask, int verbatim, uint8_t *buf,
                    size_t cap, size_t *len)
    ctypedef struct ottl_verbatim_plan:
        pass
    ottl_verbatim_plan *ottl_verbatim_plan_new(const ottl_batch *b, const uint8_t *mask)
    size_t ottl_verbatim_size(const ottl_verbatim_plan *p)
    void ottl_verbatim_write(const ottl_verbatim_plan *p, const ottl_batch *b,
                             const uint8_t *mask, uint8_t *out)
    void ottl_verbatim_free(ottl_verbatim_plan *p)


cdef extern from "otlp_json.h" nogil:
    int ottl_json_transcode(int kind, const uint8_t *json, size_t len,
                            const ottl_decode_options *opt, uint8_t **out, size_t *out_len,
                            size_t *unknown, ottl_decode_error *err)
    int ottl_encode_json(const ottl_batch *b, const uint8_t *mask, uint8_t *buf, size_t cap,
                         size_t *len)


cdef class _Batch:
    cdef ottl_batch *b
    cdef bytes data
    cdef dict _specs
    cdef object _projection  # frozenset of the kept record attribute keys, or None

    cdef object _str(self, int32_t sid)
    cdef _whole(self, what)
    cdef object _bytes(self, int32_t sid)
    cdef object _value(self, uint8_t tag, int64_t val)
    cdef _check_value(self, uint8_t tag, int64_t val, int depth)
    cdef list _attrs(self, ottl_kvpool *pool, int64_t start, int64_t end)
    cdef object _id(self, int owner, size_t row, int field, uint8_t present, uint8_t bit,
                    uint8_t irr_bit, const uint8_t *fixed, size_t width)
    cdef dict _resource_group(self, size_t r)
    cdef dict _scope_group(self, size_t s)
    cdef size_t _count(self)
    cdef ottl_kvpool *_record_attrs(self)
    cdef _add_pool(self, dict specs, str prefix, ottl_kvpool *p)


cdef class SpanBatch(_Batch):
    cdef dict _span(self, size_t i)
    cdef list _span_events(self, size_t i)
    cdef _check_span(self, size_t i)


cdef class LogBatch(_Batch):
    cdef dict _log(self, size_t i)
