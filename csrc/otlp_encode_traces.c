/* SpanBatch -> Span messages (content only; otlp_encode.c frames them). Fields go out in
 * field-number order, as the official serializer writes them. */
#include "otlp_encode.h"

static size_t event_size(const ottl_batch *b, size_t e) {
    const ottl_events *t = &b->events;
    return (t->time[e] ? 9 : 0) + enc_str_size(b, t->name[e]) +
           enc_attrs_size(b, &b->event_attrs, t->attr_off[e], t->attr_off[e + 1]) +
           enc_varint_size(t->dropped[e]);
}

static uint8_t *event_write(const ottl_batch *b, size_t e, uint8_t *o) {
    const ottl_events *t = &b->events;
    if (t->time[e]) {
        *o++ = PB_TAG(1, PB_I64);
        o = pb_put_fixed64(o, t->time[e]);
    }
    o = enc_str(b, PB_TAG(2, PB_LEN), t->name[e], o);
    o = enc_attrs(b, &b->event_attrs, t->attr_off[e], t->attr_off[e + 1], PB_TAG(3, PB_LEN), o);
    return enc_varint(PB_TAG(4, PB_VARINT), t->dropped[e], o);
}

static size_t link_size(const ottl_batch *b, size_t l) {
    const ottl_links *t = &b->links;
    uint8_t pr = t->present[l];
    return enc_id_size(b, OTTL_OWNER_LINK, l, 1, pr, OTTL_P_TRACE_ID, OTTL_P_IRR_TRACE_ID, 16) +
           enc_id_size(b, OTTL_OWNER_LINK, l, 2, pr, OTTL_P_SPAN_ID, OTTL_P_IRR_SPAN_ID, 8) +
           enc_str_size(b, t->trace_state[l]) +
           enc_attrs_size(b, &b->link_attrs, t->attr_off[l], t->attr_off[l + 1]) +
           enc_varint_size(t->dropped[l]) + (t->flags[l] ? 5 : 0);
}

static uint8_t *link_write(const ottl_batch *b, size_t l, uint8_t *o) {
    const ottl_links *t = &b->links;
    uint8_t pr = t->present[l];
    o = enc_id(b, OTTL_OWNER_LINK, l, 1, pr, OTTL_P_TRACE_ID, OTTL_P_IRR_TRACE_ID,
               t->trace_id + 16 * l, 16, o);
    o = enc_id(b, OTTL_OWNER_LINK, l, 2, pr, OTTL_P_SPAN_ID, OTTL_P_IRR_SPAN_ID,
               t->span_id + 8 * l, 8, o);
    o = enc_str(b, PB_TAG(3, PB_LEN), t->trace_state[l], o);
    o = enc_attrs(b, &b->link_attrs, t->attr_off[l], t->attr_off[l + 1], PB_TAG(4, PB_LEN), o);
    o = enc_varint(PB_TAG(5, PB_VARINT), t->dropped[l], o);
    if (t->flags[l]) {
        *o++ = PB_TAG(6, PB_I32);
        o = pb_put_fixed32(o, t->flags[l]);
    }
    return o;
}

static size_t status_size(const ottl_batch *b, size_t i) {
    return enc_str_size(b, b->spans.status_message[i]) +
           enc_varint_size(enc_i32(b->spans.status_code[i]));
}

size_t enc_span_size(const ottl_batch *b, size_t i) {
    const ottl_spans *t = &b->spans;
    uint8_t pr = t->present[i];
    size_t n = enc_id_size(b, OTTL_OWNER_SPAN, i, 1, pr, OTTL_P_TRACE_ID, OTTL_P_IRR_TRACE_ID, 16) +
               enc_id_size(b, OTTL_OWNER_SPAN, i, 2, pr, OTTL_P_SPAN_ID, OTTL_P_IRR_SPAN_ID, 8) +
               enc_str_size(b, t->trace_state[i]) +
               enc_id_size(b, OTTL_OWNER_SPAN, i, 4, pr, OTTL_P_PARENT_ID, OTTL_P_IRR_PARENT_ID, 8) +
               enc_str_size(b, t->name[i]) + enc_varint_size(enc_i32(t->kind[i])) +
               (t->start_time[i] ? 9 : 0) + (t->end_time[i] ? 9 : 0) +
               enc_attrs_size(b, &b->span_attrs, t->attr_off[i], t->attr_off[i + 1]) +
               enc_varint_size(t->dropped_attrs[i]) + enc_varint_size(t->dropped_events[i]) +
               enc_varint_size(t->dropped_links[i]) + (t->flags[i] ? 6 : 0);
    for (int64_t e = t->event_off[i]; e < t->event_off[i + 1]; e++)
        n += enc_field(event_size(b, (size_t)e));
    for (int64_t l = t->link_off[i]; l < t->link_off[i + 1]; l++)
        n += enc_field(link_size(b, (size_t)l));
    if (pr & OTTL_P_STATUS) n += enc_field(status_size(b, i));
    return n;
}

uint8_t *enc_span(const ottl_batch *b, size_t i, uint8_t *o) {
    const ottl_spans *t = &b->spans;
    uint8_t pr = t->present[i];
    o = enc_id(b, OTTL_OWNER_SPAN, i, 1, pr, OTTL_P_TRACE_ID, OTTL_P_IRR_TRACE_ID,
               t->trace_id + 16 * i, 16, o);
    o = enc_id(b, OTTL_OWNER_SPAN, i, 2, pr, OTTL_P_SPAN_ID, OTTL_P_IRR_SPAN_ID,
               t->span_id + 8 * i, 8, o);
    o = enc_str(b, PB_TAG(3, PB_LEN), t->trace_state[i], o);
    o = enc_id(b, OTTL_OWNER_SPAN, i, 4, pr, OTTL_P_PARENT_ID, OTTL_P_IRR_PARENT_ID,
               t->parent_span_id + 8 * i, 8, o);
    o = enc_str(b, PB_TAG(5, PB_LEN), t->name[i], o);
    o = enc_varint(PB_TAG(6, PB_VARINT), enc_i32(t->kind[i]), o);
    if (t->start_time[i]) {
        *o++ = PB_TAG(7, PB_I64);
        o = pb_put_fixed64(o, t->start_time[i]);
    }
    if (t->end_time[i]) {
        *o++ = PB_TAG(8, PB_I64);
        o = pb_put_fixed64(o, t->end_time[i]);
    }
    o = enc_attrs(b, &b->span_attrs, t->attr_off[i], t->attr_off[i + 1], PB_TAG(9, PB_LEN), o);
    o = enc_varint(PB_TAG(10, PB_VARINT), t->dropped_attrs[i], o);
    for (int64_t e = t->event_off[i]; e < t->event_off[i + 1]; e++) {
        *o++ = PB_TAG(11, PB_LEN);
        o = pb_put_varint(o, event_size(b, (size_t)e));
        o = event_write(b, (size_t)e, o);
    }
    o = enc_varint(PB_TAG(12, PB_VARINT), t->dropped_events[i], o);
    for (int64_t l = t->link_off[i]; l < t->link_off[i + 1]; l++) {
        *o++ = PB_TAG(13, PB_LEN);
        o = pb_put_varint(o, link_size(b, (size_t)l));
        o = link_write(b, (size_t)l, o);
    }
    o = enc_varint(PB_TAG(14, PB_VARINT), t->dropped_links[i], o);
    if (pr & OTTL_P_STATUS) {
        *o++ = PB_TAG(15, PB_LEN);
        o = pb_put_varint(o, status_size(b, i));
        o = enc_str(b, PB_TAG(2, PB_LEN), t->status_message[i], o);
        o = enc_varint(PB_TAG(3, PB_VARINT), enc_i32(t->status_code[i]), o);
    }
    if (t->flags[i]) {
        /* Field 16 needs a two-byte tag. */
        o = pb_put_varint(o, (16u << 3) | PB_I32);
        o = pb_put_fixed32(o, t->flags[i]);
    }
    return o;
}
