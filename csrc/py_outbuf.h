/*
 * Python glue for ottl/_batch.pyx (the one csrc header that needs Python.h): letting encode()
 * write into the bytes object it returned last time, once its caller has let go of it.
 *
 * Why: an encoded request is megabytes, and glibc gives most fresh large blocks back to the
 * kernel when they are freed, so every new output lands on fresh pages: a page fault per 4 KiB,
 * several microseconds each on a virtual machine, which measured as much as the encoding itself.
 * A bytes object nobody else references (reference count 1: only the encoder's spare slot) can be
 * rewritten without anyone observing it, and its pages are warm.
 */
#ifndef OTTL_PY_OUTBUF_H
#define OTTL_PY_OUTBUF_H

#include <Python.h>

/* Rewriting needs a reference count that tells the truth and the bytes object's cached hash;
 * the free-threaded build has neither in that form, and later versions may drop the hash field:
 * there encode() allocates every output afresh. */
#if !defined(Py_GIL_DISABLED) && PY_VERSION_HEX < 0x030F0000
#define OTTL_OUTBUF_REUSE 1
#else
#define OTTL_OUTBUF_REUSE 0
#endif

/* Whether the encoder may write into o: it holds the only reference. */
static inline int ottl_outbuf_unshared(PyObject *o) {
#if OTTL_OUTBUF_REUSE
    return Py_REFCNT(o) == 1;
#else
    (void)o;
    return 0;
#endif
}

/* Sets the length of a bytes object whose block holds at least n + 1 bytes (the block keeps its
 * size: the room beyond n is kept for the next output), with the terminating NUL every bytes
 * object has, and forgets a hash computed for the old contents. */
static inline void ottl_outbuf_set_len(PyObject *o, Py_ssize_t n) {
    Py_SET_SIZE(o, n);
    PyBytes_AS_STRING(o)[n] = '\0';
#if OTTL_OUTBUF_REUSE
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
    ((PyBytesObject *)o)->ob_shash = -1;
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
}

#endif /* OTTL_PY_OUTBUF_H */
