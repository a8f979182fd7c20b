// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* profile.bpf.c: a CO-RE stack sampler.
 *
 * Attached to one perf event per CPU (software cpu-clock, or hardware cycles), it records the
 * current thread's user and kernel stacks in a stack-trace map and counts samples in a hash keyed
 * by (tgid, pid, comm, user stack id, kernel stack id). Aggregation happens here, in the kernel;
 * user space drains the hash periodically. Map sizes are set by the loader before load.
 *
 * For a CPython process that user space has registered in py_procs (3.11 and later), it also
 * finds the sampled thread's PyThreadState (by native thread id, cached per thread) and walks its
 * chain of _PyInterpreterFrames, recording each frame's code object and instruction offset in a
 * py_stack record keyed by a hash of its frames; the count key's ext_id names that record.
 * Build: python -m ebpf.build (clang -target bpf against a vmlinux.h made from the running
 * kernel's BTF, then llvm-strip -g).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "profile.h"

#define EFAULT 14
#define EEXIST 17
#define PF_KTHREAD 0x00200000

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct profile_config profile_cfg = {
    .target_tgid = 0,
    .skip_idle = 1,
    .abi_version = PROFILE_ABI_VERSION,
};

struct {
    __uint(type, BPF_MAP_TYPE_STACK_TRACE);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, PROFILE_MAX_DEPTH * sizeof(__u64));
    __uint(max_entries, 16384);
} stacks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct profile_key);
    __type(value, __u64);
    __uint(max_entries, 10240);
} counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct profile_counters);
    __uint(max_entries, 1);
} counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);                /* tgid */
    __type(value, struct py_proc);
    __uint(max_entries, 256);
} py_procs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __type(key, __u32);                /* tid */
    __type(value, __u64);              /* its PyThreadState address */
    __uint(max_entries, 4096);
} py_threads SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);                /* hash of the frames: the key's ext_id */
    __type(value, struct py_stack);
    __uint(max_entries, 2048);
} py_stacks SEC(".maps");

/* Per-CPU scratch space: the record being built and one frame's bytes (too big for the stack).
 * The frame buffer is larger than what is read so that masked offsets stay inside it. */
struct py_scratch {
    struct py_stack stack;
    __u8 frame[128];
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct py_scratch);
    __uint(max_entries, 1);
} py_scratch SEC(".maps");

/* A pointer from user memory; 0 when unreadable (the helper zero-fills on failure: no branch). */
static __always_inline __u64 read_ptr(__u64 addr)
{
    __u64 val = 0;
    bpf_probe_read_user(&val, sizeof(val), (const void *)addr);
    return val;
}

/* Fields at variable offsets of the frame bytes, masked instead of compared (no branch): user
 * space only configures 8-aligned pointer offsets that end within PY_FRAME_READ. */
static __always_inline __u64 frame_u64(const __u8 *buf, __u32 off)
{
    return *(const __u64 *)(buf + (off & 0x78));
}

static __always_inline __u8 frame_u8(const __u8 *buf, __u32 off)
{
    return buf[off & 0x7f];
}

/* The sampled thread's PyThreadState: from the per-thread cache when its native_thread_id still
 * matches, else by searching the interpreters' thread lists (one flat loop, bounded by
 * PY_MAX_THREADS steps over thread states and interpreters). 0 when the thread has none. */
static __always_inline __u64 find_tstate(const struct py_proc *pp, __u32 tid)
{
    __u64 *cached = bpf_map_lookup_elem(&py_threads, &tid);
    if (cached && *cached && read_ptr(*cached + pp->tstate_native_tid) == tid)
        return *cached;
    __u64 interp = read_ptr(pp->runtime + pp->interp_head);
    __u64 ts = interp ? read_ptr(interp + pp->tstate_head) : 0;
    __u64 found = 0;
    for (int i = 0; i < PY_MAX_THREADS; i++) {
        if (!ts) {  /* the end of one interpreter's list: on to the next interpreter */
            if (!interp)
                break;
            interp = read_ptr(interp + pp->interp_next);
            ts = interp ? read_ptr(interp + pp->tstate_head) : 0;
            continue;
        }
        if (read_ptr(ts + pp->tstate_native_tid) == tid) {
            found = ts;
            break;
        }
        ts = read_ptr(ts + pp->tstate_next);
    }
    if (found)
        bpf_map_update_elem(&py_threads, &tid, &found, BPF_ANY);
    return found;
}

#define FNV_PRIME 0x100000001b3ULL

/* Walk the thread's interpreter frames into sc->stack; returns the record's id (its hash folded
 * to 32 bits, never 0), or 0 when there is no frame. The loop body has no branch but its exits,
 * which keeps the verifier's work linear in PY_MAX_DEPTH. */
static __always_inline __u32 walk_python(const struct py_proc *pp, __u64 tstate, struct py_scratch *sc)
{
    struct py_stack *st = &sc->stack;
    st->flags = 0;
    __u64 frame;
    if (pp->flags & PY_PROC_CFRAME)
        frame = read_ptr(read_ptr(tstate + pp->tstate_frame) + pp->cframe_frame);
    else
        frame = read_ptr(tstate + pp->tstate_frame);
    __u8 entry_mask = (pp->flags & PY_PROC_IS_ENTRY) ? 1 : 0;
    __u32 off_code = pp->frame_code, off_instr = pp->frame_instr, off_prev = pp->frame_previous;
    __u32 off_owner = pp->frame_owner, off_entry = pp->frame_entry;
    __u64 adaptive = pp->code_adaptive;
    __u64 h = 0xcbf29ce484222325ULL;   /* FNV-1a offset basis; FNV-style mixing per field */
    __u32 depth = 0;
    for (int i = 0; i < PY_MAX_DEPTH; i++) {
        if (!frame)
            break;
        if (bpf_probe_read_user(sc->frame, PY_FRAME_READ, (const void *)frame) != 0) {
            st->flags |= PY_STACK_READ_ERROR;
            break;
        }
        struct py_frame *f = &st->frames[i & (PY_MAX_DEPTH - 1)];
        __u64 code = frame_u64(sc->frame, off_code);
        __s32 offset = (__s32)(frame_u64(sc->frame, off_instr) - (code + adaptive));
        __u8 owner = frame_u8(sc->frame, off_owner);
        __u8 entry = frame_u8(sc->frame, off_entry) & entry_mask;
        frame = frame_u64(sc->frame, off_prev);
        f->code = code;
        f->offset = offset;
        f->owner = owner;
        f->is_entry = entry;
        f->reserved = 0;
        h = (h ^ code) * FNV_PRIME;
        h = (h ^ ((__u64)(__u32)offset << 16 | (__u64)owner << 8 | entry)) * FNV_PRIME;
        depth = i + 1;
    }
    if (frame && !(st->flags & PY_STACK_READ_ERROR))
        st->flags |= PY_STACK_TRUNCATED;
    st->depth = depth;
    if (depth == 0)
        return 0;
    h = (h ^ ((__u64)st->flags << 32 | depth)) * FNV_PRIME;
    st->hash = h;
    __u32 id = (__u32)(h ^ (h >> 32));
    return id ? id : 1;
}

/* Store the record under its id, unless another stack already holds that id: 0 when the id names
 * this stack, -1 otherwise (a collision, or the map is full). */
static __always_inline int store_python(__u32 id, struct py_scratch *sc)
{
    struct py_stack *old = bpf_map_lookup_elem(&py_stacks, &id);
    if (!old) {
        long err = bpf_map_update_elem(&py_stacks, &id, &sc->stack, BPF_NOEXIST);
        if (err == 0)
            return 0;
        if (err != -EEXIST)
            return -1;
        old = bpf_map_lookup_elem(&py_stacks, &id);
        if (!old)
            return -1;
    }
    return old->hash == sc->stack.hash && old->depth == sc->stack.depth ? 0 : -1;
}

SEC("perf_event")
int do_sample(struct bpf_perf_event_data *ctx)
{
    __u32 zero = 0;
    struct profile_counters *c = bpf_map_lookup_elem(&counters, &zero);
    if (!c)
        return 0;
    c->runs++;

    __u64 id = bpf_get_current_pid_tgid();
    __u32 tgid = id >> 32;
    __u32 pid = (__u32)id;
    if (pid == 0 && profile_cfg.skip_idle) {
        c->idle++;
        return 0;
    }
    if (profile_cfg.target_tgid && tgid != profile_cfg.target_tgid) {
        c->filtered++;
        return 0;
    }

    struct profile_key key = {};
    key.tgid = tgid;
    key.pid = pid;
    bpf_get_current_comm(&key.comm, sizeof(key.comm));

    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    if (BPF_CORE_READ(task, flags) & PF_KTHREAD)
        key.flags |= PROFILE_KEY_KTHREAD;

    key.kern_stack_id = bpf_get_stackid(ctx, &stacks, 0);
    if (key.flags & PROFILE_KEY_KTHREAD)
        key.user_stack_id = -EFAULT;
    else
        key.user_stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
    if (key.user_stack_id < 0 && !(key.flags & PROFILE_KEY_KTHREAD))
        c->user_stack_missing++;
    if (key.kern_stack_id < 0 && key.kern_stack_id != -EFAULT)
        c->kern_stack_missing++;

    struct py_proc *pp = key.flags & PROFILE_KEY_KTHREAD ? 0 : bpf_map_lookup_elem(&py_procs, &tgid);
    if (pp) {
        struct py_scratch *sc = bpf_map_lookup_elem(&py_scratch, &zero);
        __u64 tstate = find_tstate(pp, pid);
        __u32 ext = 0;
        if (!sc) {
            key.flags |= PROFILE_KEY_PY_ERROR;
        } else if (!tstate) {
            key.flags |= PROFILE_KEY_PY_NO_THREAD;
        } else {
            ext = walk_python(pp, tstate, sc);
            if (!ext) {
                if (sc->stack.flags & PY_STACK_READ_ERROR) {
                    key.flags |= PROFILE_KEY_PY_ERROR;
                    c->py_errors++;
                } else {
                    key.flags |= PROFILE_KEY_PY_NO_THREAD;
                }
            } else if (store_python(ext, sc) != 0) {
                key.flags |= PROFILE_KEY_PY_ERROR;
                c->py_collisions++;
            } else {
                key.flags |= PROFILE_KEY_PYTHON;
                key.ext_id = ext;
            }
        }
    }

    __u64 *val = bpf_map_lookup_elem(&counts, &key);
    if (val) {
        __sync_fetch_and_add(val, 1);
    } else {
        __u64 one = 1;
        long err = bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
        if (err == -EEXIST) {
            /* another CPU inserted the same key meanwhile */
            val = bpf_map_lookup_elem(&counts, &key);
            if (val)
                __sync_fetch_and_add(val, 1);
        } else if (err) {
            c->lost++;
            return 0;
        }
    }
    c->samples++;
    if (key.flags & PROFILE_KEY_PYTHON)
        c->py_samples++;
    return 0;
}
