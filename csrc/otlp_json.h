/*
 * OTLP/JSON in and out of the columnar batches (docs/batches.md, "OTLP/JSON").
 *
 * Decoding is a transcoder: one pass over the JSON text, driven by a table of the OTLP messages,
 * writes the equivalent protobuf wire bytes into a buffer of its own, which the protobuf decoder
 * (ottl_decode_into) then reads, so there is exactly one batch builder. The transcoder applies
 * every check the protobuf decoder would make (UTF-8, string length, attribute counts, nesting
 * depth, payload size) itself, so that errors carry the JSON byte offset and field path; the
 * batch's `input` is the transcoded buffer, which must outlive the batch (verbatim copy-out
 * reads it).
 *
 * Encoding writes the batch as OTLP/JSON, forwards, in one pass.
 *
 * All functions are safe to call without the GIL.
 */
#ifndef OTTL_OTLP_JSON_H
#define OTTL_OTLP_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "otlp_batch.h"

/* JSON of an ExportTraceServiceRequest (kind OTTL_BATCH_SPANS) or ExportLogsServiceRequest
 * (OTTL_BATCH_LOGS) -> protobuf bytes. 0 on success: *out is a malloc'd buffer of *out_len
 * bytes (the caller frees it) and *unknown the number of JSON members skipped as unknown;
 * otherwise an OTTL_DECODE_* code with *err filled (offset: a byte of the JSON text) and *out
 * NULL. */
int ottl_json_transcode(int kind, const uint8_t *json, size_t len, const ottl_decode_options *opt,
                        uint8_t **out, size_t *out_len, size_t *unknown, ottl_decode_error *err);

/* Transcode and decode in one call (into `reuse`, as ottl_decode_into). On success *buf is the
 * transcoded buffer the batch's input points to: free it only after the batch. */
int ottl_decode_json_into(ottl_batch *reuse, int kind, const uint8_t *json, size_t len,
                          const ottl_decode_options *opt, ottl_batch **out, uint8_t **buf,
                          ottl_decode_error *err);

/* Batch -> OTLP/JSON (compact, lowerCamelCase, protojson's field order and defaults), only the
 * records the mask keeps when it is not NULL (one byte per record, nonzero keeps; scopes and
 * resources left empty are dropped, as ottl_encode does). Writes forwards into buf[0, cap):
 * returns 0 with *len the bytes written, or -1 when cap was too small, with *len the exact size
 * needed (a second call with that much room succeeds). */
int ottl_encode_json(const ottl_batch *b, const uint8_t *mask, uint8_t *buf, size_t cap,
                     size_t *len);

#endif /* OTTL_OTLP_JSON_H */
