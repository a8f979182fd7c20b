/* SpanBatch -> Span messages (content only; otlp_encode.c frames them), written backwards:
 * last field first. */
#include "otlp_encode.h"

static int rw_event(rw_t *w, const ottl_batch *b, size_t e) {
    const ottl_events *t = &b->events;
    RW_TRY(rw_uvarint(w, PB_TAG(4, PB_VARINT), t->dropped[e]));
    RW_TRY(rw_attrs(w, b, &b->event_attrs, t->attr_off[e], t->attr_off[e + 1], PB_TAG(3, PB_LEN)));
    RW_TRY(rw_str(w, b, PB_TAG(2, PB_LEN), t->name[e]));
    return rw_fixed64(w, PB_TAG(1, PB_I64), t->time[e]);
}

static int rw_link(rw_t *w, const ottl_batch *b, size_t l) {
    const ottl_links *t = &b->links;
    uint8_t pr = t->present[l];
    RW_TRY(rw_fixed32(w, 6, t->flags[l]));
    RW_TRY(rw_uvarint(w, PB_TAG(5, PB_VARINT), t->dropped[l]));
    RW_TRY(rw_attrs(w, b, &b->link_attrs, t->attr_off[l], t->attr_off[l + 1], PB_TAG(4, PB_LEN)));
    RW_TRY(rw_str(w, b, PB_TAG(3, PB_LEN), t->trace_state[l]));
    RW_TRY(rw_id(w, b, OTTL_OWNER_LINK, l, 2, pr, OTTL_P_SPAN_ID, OTTL_P_IRR_SPAN_ID,
                 t->span_id + 8 * l, 8));
    return rw_id(w, b, OTTL_OWNER_LINK, l, 1, pr, OTTL_P_TRACE_ID, OTTL_P_IRR_TRACE_ID,
                 t->trace_id + 16 * l, 16);
}

int rw_span(rw_t *w, const ottl_batch *b, size_t i) {
    const ottl_spans *t = &b->spans;
    uint8_t pr = t->present[i];
    RW_TRY(rw_fixed32(w, 16, t->flags[i]));
    if (pr & OTTL_P_STATUS) {
        size_t m = rw_used(w);
        RW_TRY(rw_uvarint(w, PB_TAG(3, PB_VARINT), rw_i32(t->status_code[i])));
        RW_TRY(rw_str(w, b, PB_TAG(2, PB_LEN), t->status_message[i]));
        RW_TRY(rw_close(w, PB_TAG(15, PB_LEN), m));
    }
    RW_TRY(rw_uvarint(w, PB_TAG(14, PB_VARINT), t->dropped_links[i]));
    for (int64_t l = t->link_off[i + 1]; l-- > t->link_off[i];) {
        size_t m = rw_used(w);
        RW_TRY(rw_link(w, b, (size_t)l));
        RW_TRY(rw_close(w, PB_TAG(13, PB_LEN), m));
    }
    RW_TRY(rw_uvarint(w, PB_TAG(12, PB_VARINT), t->dropped_events[i]));
    for (int64_t e = t->event_off[i + 1]; e-- > t->event_off[i];) {
        size_t m = rw_used(w);
        RW_TRY(rw_event(w, b, (size_t)e));
        RW_TRY(rw_close(w, PB_TAG(11, PB_LEN), m));
    }
    RW_TRY(rw_uvarint(w, PB_TAG(10, PB_VARINT), t->dropped_attrs[i]));
    RW_TRY(rw_attrs(w, b, &b->span_attrs, t->attr_off[i], t->attr_off[i + 1], PB_TAG(9, PB_LEN)));
    RW_TRY(rw_fixed64(w, PB_TAG(8, PB_I64), t->end_time[i]));
    RW_TRY(rw_fixed64(w, PB_TAG(7, PB_I64), t->start_time[i]));
    RW_TRY(rw_uvarint(w, PB_TAG(6, PB_VARINT), rw_i32(t->kind[i])));
    RW_TRY(rw_str(w, b, PB_TAG(5, PB_LEN), t->name[i]));
    RW_TRY(rw_id(w, b, OTTL_OWNER_SPAN, i, 4, pr, OTTL_P_PARENT_ID, OTTL_P_IRR_PARENT_ID,
                 t->parent_span_id + 8 * i, 8));
    RW_TRY(rw_str(w, b, PB_TAG(3, PB_LEN), t->trace_state[i]));
    RW_TRY(rw_id(w, b, OTTL_OWNER_SPAN, i, 2, pr, OTTL_P_SPAN_ID, OTTL_P_IRR_SPAN_ID,
                 t->span_id + 8 * i, 8));
    return rw_id(w, b, OTTL_OWNER_SPAN, i, 1, pr, OTTL_P_TRACE_ID, OTTL_P_IRR_TRACE_ID,
                 t->trace_id + 16 * i, 16);
}
