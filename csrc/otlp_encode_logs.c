/* LogBatch -> LogRecord messages (content only; otlp_encode.c frames them), written
 * backwards: last field first. */
#include "otlp_encode.h"

int rw_log(rw_t *w, const ottl_batch *b, size_t i) {
    const ottl_logs *t = &b->logs;
    uint8_t pr = t->present[i];
    RW_TRY(rw_str(w, b, PB_TAG(12, PB_LEN), t->event_name[i]));
    RW_TRY(rw_fixed64(w, PB_TAG(11, PB_I64), t->observed_time[i]));
    RW_TRY(rw_id(w, b, OTTL_OWNER_LOG, i, 10, pr, OTTL_P_SPAN_ID, OTTL_P_IRR_SPAN_ID,
                 t->span_id + 8 * i, 8));
    RW_TRY(rw_id(w, b, OTTL_OWNER_LOG, i, 9, pr, OTTL_P_TRACE_ID, OTTL_P_IRR_TRACE_ID,
                 t->trace_id + 16 * i, 16));
    RW_TRY(rw_fixed32(w, 8, t->flags[i]));
    RW_TRY(rw_uvarint(w, PB_TAG(7, PB_VARINT), t->dropped[i]));
    RW_TRY(rw_attrs(w, b, &b->log_attrs, t->attr_off[i], t->attr_off[i + 1], PB_TAG(6, PB_LEN)));
    if (t->body_tag[i] != OTTL_V_NONE) {
        size_t m = rw_used(w);
        RW_TRY(rw_value(w, b, t->body_tag[i], t->body[i]));
        RW_TRY(rw_close(w, PB_TAG(5, PB_LEN), m));
    }
    RW_TRY(rw_str(w, b, PB_TAG(3, PB_LEN), t->severity_text[i]));
    RW_TRY(rw_uvarint(w, PB_TAG(2, PB_VARINT), rw_i32(t->severity_number[i])));
    return rw_fixed64(w, PB_TAG(1, PB_I64), t->time[i]);
}
