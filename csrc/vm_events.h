/* Span events run as log records (csrc/vm_events.c): a spanevent-context group whose paths are
 * the event's own (name, time, attributes, dropped count, cache) and its resource's and scope's
 * runs on the VM over a log batch with one record per event, and what it changed goes back
 * into the span batch. */
#ifndef OTTL_VM_EVENTS_H
#define OTTL_VM_EVENTS_H

#include "otlp_batch.h"

/* A new log batch whose records are the span events of `b` (a span batch), in event order:
 * a record's time, event_name, dropped count and attributes are its event's, under the
 * resource and scope of the event's span. The log fields no event has carry what a
 * spanevent statement may read besides: severity_text the span's name, severity_number the
 * span's kind, body the span's attributes (a kvlist appended to the value pool), flags the
 * event's index in its span, trace_id and span_id the span's (an irregular one marked so in
 * present, with no value), observed_time_unix_nano the span's start time
 * (ottl/events_native.py reads those paths so, and refuses writes to them). The strings, nested
 * values, resources and scopes are copies of b's, with the same ids and rows, so b is left
 * as it was whatever the VM then does to the copy. NULL when out of memory or b holds no
 * spans. */
ottl_batch *ottl_vm_events_as_logs(const ottl_batch *b);

/* Writes the records of `logs` (made from b by ottl_vm_events_as_logs, then run on) back as
 * b's events when the VM marked any of them dirty: every event's name, time, dropped count
 * and attributes, and the string table and nested values (the copies, which only grew, take
 * the place of b's). Each span holding a changed event is marked dirty, so the encoder writes
 * it from the columns. `logs` is spent: it is left empty. 0 (also when nothing changed); -1
 * when out of memory (for the spans' dirty marks; b is then unchanged); -2 when `logs` does
 * not hold one record per event of b. */
int ottl_vm_events_from_logs(ottl_batch *b, ottl_batch *logs);

#endif /* OTTL_VM_EVENTS_H */
