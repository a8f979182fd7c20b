/* ExportLogsServiceRequest -> LogBatch: log records. The framing around them (resources,
 * scopes) is in otlp_decode.c. */
#include "otlp_decode.h"
#include "otlp_decode_attr.h"

#include <string.h>

int dec_log_record(dec_t *d, const uint8_t *p, const uint8_t *end, int32_t scope,
                   int32_t resource) {
    ottl_batch *b = d->b;
    ottl_logs *t = &b->logs;
    if (t->n + 1 > t->cap && ottl_logs_reserve(t, t->n + 1)) return dec_nomem(d);
    int32_t row = (int32_t)t->n;
    const uint8_t *start = p;
    uint8_t tid[16] = {0}, sid[8] = {0}, present = 0, body_tag = OTTL_V_NONE;
    int32_t severity = 0, severity_text = 0, event_name = 0, nattr = 0;
    uint32_t flags = 0, dropped = 0;
    uint64_t time = 0, observed = 0;
    int64_t body = 0;
    int64_t attr_start = (int64_t)b->log_attrs.n;
    dec_stretch attrs = {0};
    d->record_number++;
    dec_prefetch_log_row(t, (size_t)row);
    dec_prefetch_pool(&b->log_attrs);
    DEC_FIELDS_BEGIN
    case 1:
        DEC_FIXED64("time_unix_nano", time);
        break;
    case 2:
        DEC_VARINT("severity_number", severity, int32_t);
        break;
    case 3:
        DEC_STRING_HINTED("severity_text", &severity_text, DEC_H_LOG);
        break;
    case 5: {
        DEC_SUB("body");
        dec_push(d, "body", -1);
        if (dec_value(d, p, sub, &body_tag, &body)) return -1;
        dec_pop(d);
        p = sub;
        break;
    }
    case 6:
        DEC_ATTRIBUTE("attributes", &b->log_attrs, nattr, DEC_H_LOG);
        dec_stretch_add(&attrs, at, p);
        break;
    case 7:
        DEC_VARINT("dropped_attributes_count", dropped, uint32_t);
        break;
    case 8:
        DEC_FIXED32("flags", flags);
        break;
    case 9: {
        DEC_SUB("trace_id");
        if (dec_id(d, p, sub, OTTL_OWNER_LOG, row, 9, tid, 16, &present, OTTL_P_TRACE_ID,
                   OTTL_P_IRR_TRACE_ID))
            return -1;
        p = sub;
        break;
    }
    case 10: {
        DEC_SUB("span_id");
        if (dec_id(d, p, sub, OTTL_OWNER_LOG, row, 10, sid, 8, &present, OTTL_P_SPAN_ID,
                   OTTL_P_IRR_SPAN_ID))
            return -1;
        p = sub;
        break;
    }
    case 11:
        DEC_FIXED64("observed_time_unix_nano", observed);
        break;
    case 12:
        DEC_STRING("event_name", &event_name, 1);
        break;
    DEC_FIELDS_END
    t->scope[row] = scope;
    t->resource[row] = resource;
    t->time[row] = time;
    t->observed_time[row] = observed;
    t->severity_number[row] = severity;
    t->severity_text[row] = severity_text;
    t->event_name[row] = event_name;
    t->body_tag[row] = body_tag;
    t->body[row] = body;
    t->dropped[row] = dropped;
    t->flags[row] = flags;
    memcpy(t->trace_id + 16 * (size_t)row, tid, 16);
    memcpy(t->span_id + 8 * (size_t)row, sid, 8);
    t->present[row] = present;
    t->attr_off[row] = attr_start;
    t->byte_start[row] = (int64_t)(start - d->base);
    t->byte_end[row] = (int64_t)(end - d->base);
    t->attrs_at[row] = dec_stretch_at(d, &attrs);
    t->attrs_end[row] = dec_stretch_end(d, &attrs);
    t->n++;
    return 0;
}

int ottl_decode_logs(const uint8_t *data, size_t len, const ottl_decode_options *opt,
                     ottl_batch **out, ottl_decode_error *err) {
    return dec_run(NULL, data, len, opt, NULL, OTTL_BATCH_LOGS, out, err);
}
