/* A made-up "kernel" whose BTF serves as a CO-RE target other than the running kernel: the same
 * type names as core_kinds.bpf.c and the real kernel, with other layouts, sizes and values. */
typedef unsigned int u32;
typedef int s32;
typedef unsigned long long u64;
typedef long long s64;

struct list_head { struct list_head *next, *prev; };

struct task_struct {
	long state;
	struct list_head tasks;
	unsigned short prio;
	unsigned int sched_reset_on_fork: 1;
	unsigned int pad_bits: 13;
	unsigned int in_execve: 3;
	s64 pid;                      /* signed and wider than the local int */
	int tgid;
	struct task_struct *real_parent;
	u32 start_time;               /* narrower than the local u64 */
	char comm[2];                 /* index 3 is out of bounds here */
	int pid_old;
};

enum bpf_map_type { BPF_MAP_TYPE_UNSPEC = 10, BPF_MAP_TYPE_HASH = 11, BPF_MAP_TYPE_ARRAY = 0x7fff0000 };

/* Two flavors that disagree on where `a` lives: relocations against `amb` are ambiguous. */
struct amb { int a; };
struct amb___2 { int pad; int a; };
/* Two flavors that agree: not ambiguous. */
struct agree { int x; long y; };
struct agree___v2 { int x; long y; };

struct task_struct ts;
struct list_head lh;
enum bpf_map_type mt;
struct amb a1;
struct amb___2 a2;
struct agree g1;
struct agree___v2 g2;

/* A packed bitfield that no single load of 8 bytes or less covers: libbpf refuses to relocate it. */
struct wide { unsigned char pad; unsigned long long big: 60; } __attribute__((packed));
struct wide w1;
