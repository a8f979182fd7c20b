/* LogBatch -> LogRecord messages (content only; otlp_encode.c frames them), in field-number
 * order. */
#include "otlp_encode.h"

size_t enc_log_size(const ottl_batch *b, size_t i) {
    const ottl_logs *t = &b->logs;
    uint8_t pr = t->present[i];
    size_t n = (t->time[i] ? 9 : 0) + enc_varint_size(enc_i32(t->severity_number[i])) +
               enc_str_size(b, t->severity_text[i]) +
               enc_attrs_size(b, &b->log_attrs, t->attr_off[i], t->attr_off[i + 1]) +
               enc_varint_size(t->dropped[i]) + (t->flags[i] ? 5 : 0) +
               enc_id_size(b, OTTL_OWNER_LOG, i, 9, pr, OTTL_P_TRACE_ID, OTTL_P_IRR_TRACE_ID, 16) +
               enc_id_size(b, OTTL_OWNER_LOG, i, 10, pr, OTTL_P_SPAN_ID, OTTL_P_IRR_SPAN_ID, 8) +
               (t->observed_time[i] ? 9 : 0) + enc_str_size(b, t->event_name[i]);
    if (t->body_tag[i] != OTTL_V_NONE) n += enc_field(enc_value_size(b, t->body_tag[i], t->body[i]));
    return n;
}

uint8_t *enc_log(const ottl_batch *b, size_t i, uint8_t *o) {
    const ottl_logs *t = &b->logs;
    uint8_t pr = t->present[i];
    if (t->time[i]) {
        *o++ = PB_TAG(1, PB_I64);
        o = pb_put_fixed64(o, t->time[i]);
    }
    o = enc_varint(PB_TAG(2, PB_VARINT), enc_i32(t->severity_number[i]), o);
    o = enc_str(b, PB_TAG(3, PB_LEN), t->severity_text[i], o);
    if (t->body_tag[i] != OTTL_V_NONE) {
        *o++ = PB_TAG(5, PB_LEN);
        o = pb_put_varint(o, enc_value_size(b, t->body_tag[i], t->body[i]));
        o = enc_value(b, t->body_tag[i], t->body[i], o);
    }
    o = enc_attrs(b, &b->log_attrs, t->attr_off[i], t->attr_off[i + 1], PB_TAG(6, PB_LEN), o);
    o = enc_varint(PB_TAG(7, PB_VARINT), t->dropped[i], o);
    if (t->flags[i]) {
        *o++ = PB_TAG(8, PB_I32);
        o = pb_put_fixed32(o, t->flags[i]);
    }
    o = enc_id(b, OTTL_OWNER_LOG, i, 9, pr, OTTL_P_TRACE_ID, OTTL_P_IRR_TRACE_ID,
               t->trace_id + 16 * i, 16, o);
    o = enc_id(b, OTTL_OWNER_LOG, i, 10, pr, OTTL_P_SPAN_ID, OTTL_P_IRR_SPAN_ID,
               t->span_id + 8 * i, 8, o);
    if (t->observed_time[i]) {
        *o++ = PB_TAG(11, PB_I64);
        o = pb_put_fixed64(o, t->observed_time[i]);
    }
    return enc_str(b, PB_TAG(12, PB_LEN), t->event_name[i], o);
}
