/* profile.h: the only contract between the BPF program (profile.bpf.c) and the Python side.
 *
 * The Python loader feeds the text between the cdef markers to cffi's ffi.cdef(), so every
 * struct layout and constant here exists once. Keep that part to plain C declarations and
 * integer #defines (what cffi's cdef accepts); fixed-width __u32/__s32/__u64 only.
 */
#ifndef OTTL_EBPF_PROFILE_H
#define OTTL_EBPF_PROFILE_H

/* cdef-begin */
#define PROFILE_COMM_LEN 16
#define PROFILE_MAX_DEPTH 127          /* frames per stack: the kernel's perf_event_max_stack */
#define PROFILE_ABI_VERSION 1          /* bump when a struct below changes */

/* key.flags */
#define PROFILE_KEY_KTHREAD 1          /* the sampled task is a kernel thread (no user stack) */

/* One aggregation key of the counts hash; its value is a __u64 sample count. */
struct profile_key {
    __u32 tgid;                        /* process id */
    __u32 pid;                         /* thread id */
    __s32 user_stack_id;               /* id in the stacks map, or a negative errno: missing */
    __s32 kern_stack_id;               /* id in the stacks map, or a negative errno: missing */
    __u32 flags;                       /* PROFILE_KEY_* */
    __u32 ext_id;                      /* reserved, 0: id of a per-stack extension record (e.g.
                                          a Python frame record keyed like the stack ids) */
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
    __u64 reserved[3];
};
/* cdef-end */

#endif
