/* profile.h: the only contract between the BPF program (profile.bpf.c) and the Python side.
 *
 * The Python loader feeds the text between the cdef markers to cffi's ffi.cdef(), so every
 * struct layout and constant here exists once. Keep that part to plain C declarations and
 * integer #defines (what cffi's cdef accepts); fixed-width __u8/__u16/__u32/__s32/__u64 only.
 */
#ifndef OTTL_EBPF_PROFILE_H
#define OTTL_EBPF_PROFILE_H

/* cdef-begin */
#define PROFILE_COMM_LEN 16
#define PROFILE_MAX_DEPTH 127          /* frames per stack: the kernel's perf_event_max_stack */
#define PROFILE_ABI_VERSION 2          /* bump when a struct below changes */
#define PY_MAX_DEPTH 128               /* interpreter frames recorded per stack (deeper: truncated);
                                          a power of two */
#define PY_MAX_THREADS 128             /* steps searching the interpreters' thread lists for the
                                          sampled thread (the result is cached per thread) */
#define PY_FRAME_READ 80               /* bytes of a _PyInterpreterFrame read at once: pointer fields
                                          must be 8-aligned and end within them */

/* key.flags */
#define PROFILE_KEY_KTHREAD 1          /* the sampled task is a kernel thread (no user stack) */
#define PROFILE_KEY_PYTHON 2           /* ext_id names a Python stack record in the py_stacks map */
#define PROFILE_KEY_PY_NO_THREAD 4     /* a known CPython process, but this thread has no thread
                                          state (or no Python frame running) */
#define PROFILE_KEY_PY_ERROR 8         /* a known CPython process whose state could not be read,
                                          or an ext_id hash collision: native frames only */

/* One aggregation key of the counts hash; its value is a __u64 sample count. */
struct profile_key {
    __u32 tgid;                        /* process id */
    __u32 pid;                         /* thread id */
    __s32 user_stack_id;               /* id in the stacks map, or a negative errno: missing */
    __s32 kern_stack_id;               /* id in the stacks map, or a negative errno: missing */
    __u32 flags;                       /* PROFILE_KEY_* */
    __u32 ext_id;                      /* with PROFILE_KEY_PYTHON: the key of a struct py_stack in
                                          the py_stacks map (a hash of its frames); else 0 */
    char comm[PROFILE_COMM_LEN];       /* the thread's command name */
};

/* Read-only configuration (.rodata), written by the loader before load. */
struct profile_config {
    __u32 target_tgid;                 /* sample only this process; 0: every process */
    __u32 skip_idle;                   /* 1: do not record the idle task (pid 0) */
    __u32 abi_version;                 /* PROFILE_ABI_VERSION, checked by the loader */
    __u32 reserved;
};

/* Per-CPU counters (one entry of the counters map); the loader sums the CPUs. */
struct profile_counters {
    __u64 runs;                        /* program runs (every sample the perf events delivered) */
    __u64 samples;                     /* samples recorded in the counts map */
    __u64 idle;                        /* samples of the idle task, skipped */
    __u64 filtered;                    /* samples of other processes than the target */
    __u64 lost;                        /* samples dropped: the counts map was full */
    __u64 user_stack_missing;          /* recorded with a negative user stack id */
    __u64 kern_stack_missing;          /* recorded with a negative kernel stack id (other than
                                          -EFAULT, which only means "sampled in user mode") */
    __u64 py_samples;                  /* recorded with a Python stack record */
    __u64 py_errors;                   /* CPython processes whose state could not be read */
    __u64 py_collisions;               /* Python records dropped: another record has the
                                          same hash, or the py_stacks map is full */
};

/* How to walk one CPython process: the value of the py_procs map, keyed by tgid, written by user
 * space (ebpf/python.py) when it recognises the process. Offsets are byte offsets into the
 * interpreter's structures, from CPython's _Py_DebugOffsets (3.13+) or a tested table. */
#define PY_PROC_CFRAME 1               /* tstate->cframe->current_frame (3.11, 3.12), else
                                          tstate->current_frame (3.13+) */
#define PY_PROC_IS_ENTRY 2             /* frames carry an is_entry byte (3.11) */
#define PY_PROC_OWNER_CSTACK 4         /* owner == PY_OWNED_BY_CSTACK marks an entry shim (3.12+);
                                          interpreted in user space */
#define PY_OWNED_BY_CSTACK 3

struct py_proc {
    __u64 runtime;                     /* address of _PyRuntime in the process */
    __u32 version;                     /* PY_VERSION_HEX of the interpreter */
    __u32 flags;                       /* PY_PROC_* */
    __u32 interp_head;                 /* _PyRuntime.interpreters.head */
    __u32 interp_next;                 /* PyInterpreterState.next */
    __u32 tstate_head;                 /* PyInterpreterState.threads.head */
    __u32 tstate_next;                 /* PyThreadState.next */
    __u32 tstate_native_tid;           /* PyThreadState.native_thread_id */
    __u32 tstate_frame;                /* PyThreadState.cframe, or .current_frame */
    __u32 cframe_frame;                /* _PyCFrame.current_frame (with PY_PROC_CFRAME) */
    __u32 frame_code;                  /* _PyInterpreterFrame.f_code / f_executable */
    __u32 frame_previous;              /* _PyInterpreterFrame.previous */
    __u32 frame_instr;                 /* _PyInterpreterFrame.prev_instr / instr_ptr */
    __u32 frame_owner;                 /* _PyInterpreterFrame.owner (a char) */
    __u32 frame_entry;                 /* _PyInterpreterFrame.is_entry (with PY_PROC_IS_ENTRY) */
    __u32 code_adaptive;               /* PyCodeObject.co_code_adaptive (the bytecode) */
    __u32 reserved;
};

/* One interpreter frame as read, without interpretation (so the walk has no data-dependent
 * branches for the verifier to explore): user space drops the entry shims of 3.12+ (owner ==
 * PY_OWNED_BY_CSTACK), marking the frame above each as the first of its eval loop, as is_entry
 * does in 3.11. */
struct py_frame {
    __u64 code;                        /* address of the PyCodeObject (checked in user space) */
    __s32 offset;                      /* bytes from co_code_adaptive to the current instruction */
    __u8 owner;                        /* _PyInterpreterFrame.owner */
    __u8 is_entry;                     /* _PyInterpreterFrame.is_entry (3.11; else 0) */
    __u16 reserved;
};

/* py_stack.flags */
#define PY_STACK_TRUNCATED 1           /* deeper than PY_MAX_DEPTH */
#define PY_STACK_READ_ERROR 2          /* a frame could not be read: the walk stopped there */

/* One Python stack, innermost frame first; the value of the py_stacks map. */
struct py_stack {
    __u64 hash;                        /* 64-bit hash of the frames; the map key is it folded to
                                          32 bits, and a record found under a key is the same
                                          stack only when its hash is equal too */
    __u32 depth;
    __u32 flags;                       /* PY_STACK_* */
    struct py_frame frames[PY_MAX_DEPTH];
};
/* cdef-end */

#endif
