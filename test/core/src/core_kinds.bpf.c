/* Every CO-RE relocation kind, against local types that differ from the kernel's on purpose:
 * offsets that move, bitfields, a field whose size changes (unsigned: resized; signed: poisoned),
 * flavors, missing fields/types/enumerators (poisoned or 0), type ids, sizes and matches. */
typedef unsigned char u8;
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef unsigned int u32;
typedef int s32;
typedef unsigned long long u64;
typedef long long s64;
typedef int pid_t;
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define PAI __attribute__((preserve_access_index))
/* libbpf 1.1's header has no bpf_core_field_signed; the builtin is the same one it wraps. */
#define bpf_core_field_signed(field) __builtin_preserve_field_info(field, BPF_FIELD_SIGNED)

struct task_struct {
	int pid;
	pid_t tgid;
	unsigned int in_execve: 1;
	unsigned int sched_reset_on_fork: 1;
	unsigned int flags;
	struct task_struct *real_parent;
	u64 start_time;
	char comm[16];
} PAI;

struct task_struct___sz { u32 start_time; } PAI;
struct task_struct___ssz { s32 start_time; } PAI;
struct task_struct___old { int pid_old; int pid; } PAI;
struct no_such_kernel_type { int x; } PAI;
struct list_head___m { struct list_head___m *next, *prev; } PAI;
struct list_head___bad { int next; } PAI;
typedef struct task_struct task_t;

enum bpf_map_type___mine { BPF_MAP_TYPE_HASH___x = 1, BPF_MAP_TYPE_ARRAY___x = 2, BPF_MAP_TYPE_NOPE___x = 99 };
enum bpf_map_type___all { BPF_MAP_TYPE_UNSPEC, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_ARRAY };

u64 out[64];

static __attribute__((noinline)) int sub_read(struct task_struct *t)
{
	return BPF_CORE_READ(t, real_parent, tgid);
}

SEC("tp_btf/sched_process_fork")
int all_kinds(u64 *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct task_struct___sz *tz = (void *)t;
	struct task_struct___ssz *ts = (void *)t;
	struct task_struct___old *to = (void *)t;
	char c = 0;

	out[0] = BPF_CORE_READ(t, pid);
	out[1] = BPF_CORE_READ(t, real_parent, pid);
	out[2] = bpf_core_field_exists(t->flags);
	out[3] = bpf_core_field_size(t->start_time);
	out[4] = bpf_core_field_offset(t->comm);
	out[5] = BPF_CORE_READ_BITFIELD_PROBED(t, in_execve);
	out[6] = BPF_CORE_READ_BITFIELD_PROBED(t, sched_reset_on_fork);
	out[7] = bpf_core_field_signed(t->pid);
	bpf_core_read(&c, 1, &t->comm[3]);
	out[8] = c;
	out[9] = tz->start_time;
	if (bpf_core_field_exists(ts->start_time))
		out[10] = ts->start_time;
	if (bpf_core_field_exists(to->pid_old))
		out[11] = BPF_CORE_READ(to, pid_old);
	out[12] = bpf_core_type_exists(struct no_such_kernel_type);
	out[13] = bpf_core_type_exists(struct task_struct);
	out[14] = bpf_core_type_size(struct task_struct);
	out[15] = bpf_core_type_size(task_t);
	out[16] = bpf_core_type_id_local(struct task_struct);
	out[17] = bpf_core_type_id_kernel(struct task_struct);
	out[18] = bpf_core_type_matches(struct task_struct);
	out[19] = bpf_core_type_matches(struct list_head___m);
	out[20] = bpf_core_type_matches(struct list_head___bad);
	out[21] = bpf_core_enum_value_exists(enum bpf_map_type___mine, BPF_MAP_TYPE_ARRAY___x);
	out[22] = bpf_core_enum_value_exists(enum bpf_map_type___mine, BPF_MAP_TYPE_NOPE___x);
	out[23] = bpf_core_enum_value(enum bpf_map_type___mine, BPF_MAP_TYPE_ARRAY___x);
	if (bpf_core_enum_value_exists(enum bpf_map_type___mine, BPF_MAP_TYPE_NOPE___x))
		out[24] = bpf_core_enum_value(enum bpf_map_type___mine, BPF_MAP_TYPE_NOPE___x);
	out[25] = bpf_core_enum_value(enum bpf_map_type___all, BPF_MAP_TYPE_ARRAY);
	out[26] = bpf_core_type_exists(enum bpf_map_type___all);
	out[27] = bpf_core_field_signed(t->flags);
	out[28] = bpf_core_type_size(struct no_such_kernel_type);
	out[29] = bpf_core_type_id_kernel(struct no_such_kernel_type);
	out[30] = sub_read(t);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int second(u64 *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	out[40] = BPF_CORE_READ(t, tgid);
	out[41] = sub_read(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
