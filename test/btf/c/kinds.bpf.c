/* Every BTF kind clang emits: bitfields, unions, signed and 64-bit enums, floats, qualifiers,
 * arrays, function pointers, globals in several sections, decl and type tags, externs. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __user_ptr __attribute__((btf_type_tag("user")))

enum small_signed { NEG_ONE = -1, ZERO = 0, BIG = 100 };
enum wide { W_SMALL = 1, W_HUGE = 0xfedcba9876543210ULL };
enum wide_signed { WS_NEG = -5000000000LL, WS_POS = 7 };

struct bits {
	unsigned int a : 3;
	unsigned int b : 13;
	int c : 7;
	unsigned long long d : 40;
	char tail;
} __tag("struct_tag");

union either {
	int i;
	float f;
	double d;
	struct bits b;
	unsigned char raw[16];
};

typedef int (*callback_t)(const volatile void *restrict p, long n);

struct everything {
	const char *name __tag("member_tag");
	volatile int counter;
	int *restrict rp;
	int __user_ptr *uptr;
	callback_t cb;
	union either e;
	enum small_signed s;
	enum wide w;
	enum wide_signed ws;
	long double ld;
	_Bool flag;
	struct { int x, y; } anon_inner;
	int matrix[3][4];
	struct bits flex[];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct everything);
} things SEC(".maps");

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int bpf_iter_num_new(void *it, int start, int end) __ksym __weak;

int counter_data = 42;
const volatile int ro_config = 7;
double ratio;
float ratios[4] SEC(".data.custom") = { 1.5f };
static __u64 hidden_static;
union either shared_either;
enum wide last_wide;
enum wide_signed last_wide_signed;

static __attribute__((noinline)) int helper_static(struct bits *b __tag("param_tag"), int k)
{
	return b->a + b->c + k;
}

__attribute__((noinline)) int helper_global(struct everything *e)
{
	return e->counter + (int)e->w;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int kinds_prog(void *ctx)
{
	__u32 key = 0;
	struct everything *e = bpf_map_lookup_elem(&things, &key);
	struct bits b = { .a = 1, .c = -2 };

	if (!e)
		return 0;
	if (bpf_iter_num_new(0, 0, 0))
		return 1;
	hidden_static += *(__u64 *)&ratio + *(__u32 *)&ratios[1];
	last_wide = W_HUGE;
	last_wide_signed = WS_NEG;
	shared_either.i = counter_data + ro_config + LINUX_KERNEL_VERSION;
	return helper_static(&b, e->s) + helper_global(e);
}

char _license[] SEC("license") = "GPL";
