/* ExportTraceServiceRequest -> SpanBatch: spans, their events, links and status. The framing
 * around spans (resources, scopes) is in otlp_decode.c. */
#include "otlp_decode.h"
#include "otlp_decode_attr.h"

#include <string.h>

static int dec_status(dec_t *d, const uint8_t *p, const uint8_t *end, int32_t *message,
                      int32_t *code) {
    DEC_FIELDS_BEGIN
    case 2:
        DEC_STRING("message", message, 1);
        break;
    case 3:
        DEC_VARINT("code", *code, int32_t);
        break;
    DEC_FIELDS_END
    return 0;
}

static int dec_event(dec_t *d, const uint8_t *p, const uint8_t *end) {
    ottl_batch *b = d->b;
    ottl_events *t = &b->events;
    if (t->n + 1 > t->cap && ottl_events_reserve(t, t->n + 1)) return dec_nomem(d);
    uint64_t time = 0;
    int32_t name = 0, nattr = 0;
    uint32_t dropped = 0;
    int64_t attr_start = (int64_t)b->event_attrs.n;
    DEC_FIELDS_BEGIN
    case 1:
        DEC_FIXED64("time_unix_nano", time);
        break;
    case 2:
        DEC_STRING_HINTED("name", &name, DEC_H_EVENT);
        break;
    case 3:
        DEC_ATTRIBUTE("attributes", &b->event_attrs, nattr, DEC_H_EVENT);
        break;
    case 4:
        DEC_VARINT("dropped_attributes_count", dropped, uint32_t);
        break;
    DEC_FIELDS_END
    size_t row = t->n;
    t->time[row] = time;
    t->name[row] = name;
    t->dropped[row] = dropped;
    t->attr_off[row] = attr_start;
    t->n++;
    return 0;
}

static int dec_link(dec_t *d, const uint8_t *p, const uint8_t *end) {
    ottl_batch *b = d->b;
    ottl_links *t = &b->links;
    if (t->n + 1 > t->cap && ottl_links_reserve(t, t->n + 1)) return dec_nomem(d);
    int32_t row = (int32_t)t->n;
    uint8_t tid[16] = {0}, sid[8] = {0}, present = 0;
    int32_t trace_state = 0, nattr = 0;
    uint32_t flags = 0, dropped = 0;
    int64_t attr_start = (int64_t)b->link_attrs.n;
    DEC_FIELDS_BEGIN
    case 1: {
        DEC_SUB("trace_id");
        if (dec_id(d, p, sub, OTTL_OWNER_LINK, row, 1, tid, 16, &present, OTTL_P_TRACE_ID,
                   OTTL_P_IRR_TRACE_ID))
            return -1;
        p = sub;
        break;
    }
    case 2: {
        DEC_SUB("span_id");
        if (dec_id(d, p, sub, OTTL_OWNER_LINK, row, 2, sid, 8, &present, OTTL_P_SPAN_ID,
                   OTTL_P_IRR_SPAN_ID))
            return -1;
        p = sub;
        break;
    }
    case 3:
        DEC_STRING("trace_state", &trace_state, 1);
        break;
    case 4:
        DEC_ATTRIBUTE("attributes", &b->link_attrs, nattr, DEC_H_LINK);
        break;
    case 5:
        DEC_VARINT("dropped_attributes_count", dropped, uint32_t);
        break;
    case 6:
        DEC_FIXED32("flags", flags);
        break;
    DEC_FIELDS_END
    memcpy(t->trace_id + 16 * (size_t)row, tid, 16);
    memcpy(t->span_id + 8 * (size_t)row, sid, 8);
    t->present[row] = present;
    t->trace_state[row] = trace_state;
    t->flags[row] = flags;
    t->dropped[row] = dropped;
    t->attr_off[row] = attr_start;
    t->n++;
    return 0;
}

int dec_span_record(dec_t *d, const uint8_t *p, const uint8_t *end, int32_t scope,
                    int32_t resource) {
    ottl_batch *b = d->b;
    ottl_spans *t = &b->spans;
    if (t->n + 1 > t->cap && ottl_spans_reserve(t, t->n + 1)) return dec_nomem(d);
    int32_t row = (int32_t)t->n;
    const uint8_t *start = p;
    uint8_t tid[16] = {0}, sid[8] = {0}, pid[8] = {0}, present = 0;
    int32_t trace_state = 0, name = 0, status_message = 0, kind = 0, status_code = 0;
    int32_t nattr = 0, nevent = 0, nlink = 0;
    uint32_t flags = 0, da = 0, de = 0, dl = 0;
    uint64_t t0 = 0, t1 = 0;
    int64_t attr_start = (int64_t)b->span_attrs.n;
    int64_t event_start = (int64_t)b->events.n, link_start = (int64_t)b->links.n;
    dec_stretch attrs = {0};
    d->record_number++;
    dec_prefetch_span_row(t, (size_t)row);
    dec_prefetch_pool(&b->span_attrs);
    DEC_FIELDS_BEGIN
    case 1: {
        DEC_SUB("trace_id");
        if (dec_id(d, p, sub, OTTL_OWNER_SPAN, row, 1, tid, 16, &present, OTTL_P_TRACE_ID,
                   OTTL_P_IRR_TRACE_ID))
            return -1;
        p = sub;
        break;
    }
    case 2: {
        DEC_SUB("span_id");
        if (dec_id(d, p, sub, OTTL_OWNER_SPAN, row, 2, sid, 8, &present, OTTL_P_SPAN_ID,
                   OTTL_P_IRR_SPAN_ID))
            return -1;
        p = sub;
        break;
    }
    case 3:
        DEC_STRING("trace_state", &trace_state, 1);
        break;
    case 4: {
        DEC_SUB("parent_span_id");
        if (dec_id(d, p, sub, OTTL_OWNER_SPAN, row, 4, pid, 8, &present, OTTL_P_PARENT_ID,
                   OTTL_P_IRR_PARENT_ID))
            return -1;
        p = sub;
        break;
    }
    case 5:
        DEC_STRING_HINTED("name", &name, DEC_H_SPAN);
        break;
    case 6:
        DEC_VARINT("kind", kind, int32_t);
        break;
    case 7:
        DEC_FIXED64("start_time_unix_nano", t0);
        break;
    case 8:
        DEC_FIXED64("end_time_unix_nano", t1);
        break;
    case 9:
        DEC_ATTRIBUTE("attributes", &b->span_attrs, nattr, DEC_H_SPAN);
        dec_stretch_add(&attrs, at, p);
        break;
    case 10:
        DEC_VARINT("dropped_attributes_count", da, uint32_t);
        break;
    case 11: {
        DEC_SUB("events");
        dec_push(d, "events", nevent);
        if (dec_event(d, p, sub)) return -1;
        dec_pop(d);
        nevent++;
        p = sub;
        break;
    }
    case 12:
        DEC_VARINT("dropped_events_count", de, uint32_t);
        break;
    case 13: {
        DEC_SUB("links");
        dec_push(d, "links", nlink);
        if (dec_link(d, p, sub)) return -1;
        dec_pop(d);
        nlink++;
        p = sub;
        break;
    }
    case 14:
        DEC_VARINT("dropped_links_count", dl, uint32_t);
        break;
    case 15: {
        DEC_SUB("status");
        present |= OTTL_P_STATUS;
        dec_push(d, "status", -1);
        if (dec_status(d, p, sub, &status_message, &status_code)) return -1;
        dec_pop(d);
        p = sub;
        break;
    }
    case 16:
        DEC_FIXED32("flags", flags);
        break;
    DEC_FIELDS_END
    t->scope[row] = scope;
    t->resource[row] = resource;
    memcpy(t->trace_id + 16 * (size_t)row, tid, 16);
    memcpy(t->span_id + 8 * (size_t)row, sid, 8);
    memcpy(t->parent_span_id + 8 * (size_t)row, pid, 8);
    t->present[row] = present;
    t->trace_state[row] = trace_state;
    t->name[row] = name;
    t->status_message[row] = status_message;
    t->flags[row] = flags;
    t->kind[row] = kind;
    t->status_code[row] = status_code;
    t->start_time[row] = t0;
    t->end_time[row] = t1;
    t->dropped_attrs[row] = da;
    t->dropped_events[row] = de;
    t->dropped_links[row] = dl;
    t->attr_off[row] = attr_start;
    t->event_off[row] = event_start;
    t->link_off[row] = link_start;
    t->byte_start[row] = (int64_t)(start - d->base);
    t->byte_end[row] = (int64_t)(end - d->base);
    t->attrs_at[row] = dec_stretch_at(d, &attrs);
    t->attrs_end[row] = dec_stretch_end(d, &attrs);
    t->n++;
    return 0;
}

int ottl_decode_traces(const uint8_t *data, size_t len, const ottl_decode_options *opt,
                       ottl_batch **out, ottl_decode_error *err) {
    return dec_run(NULL, data, len, opt, NULL, OTTL_BATCH_SPANS, out, err);
}
