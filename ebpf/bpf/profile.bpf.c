// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* profile.bpf.c: a CO-RE stack sampler.
 *
 * Attached to one perf event per CPU (software cpu-clock, or hardware cycles), it records the
 * current thread's user and kernel stacks in a stack-trace map and counts samples in a hash keyed
 * by (tgid, pid, comm, user stack id, kernel stack id). Aggregation happens here, in the kernel;
 * user space drains the hash periodically. Map sizes are set by the loader before load.
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
    return 0;
}
