// Maps whose BTF covers every kind bpftool's map dump formats: integers of every width and sign,
// __int128, bool, enums of every size (signed, unsigned, packed, 64-bit), char arrays, bitfields,
// unions, anonymous members, nested and multi-dimensional arrays, pointers, const/volatile/typedef
// chains, floats (which bpftool cannot show), per-CPU values and global data sections.
// Built by test/cli/map-btf.test.ts with clang-19 (not a committed fixture).
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;

#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

enum small { S_A = 1, S_B = 200 } __attribute__((packed));
enum sgn { NEG = -3, ZERO = 0, BIGU = 0x7fffffff };
enum wide { W_ONE = 1, W_HUGE = 0xfedcba9876543210ULL };
typedef volatile const u32 cv_u32;

struct key_t { u16 port; u8 proto; char tag[5]; };

struct every {
	u8 u8v; s8 s8v; u16 u16v; s16 s16v; u32 u32v; s32 s32v; u64 u64v; s64 s64v;
	unsigned __int128 u128;
	_Bool flag; char pad0[3];
	enum small e1; enum sgn e2; enum wide e3;
	char name[9];
	unsigned char uname[4];
	u32 bf_a : 1, bf_b : 7, bf_c : 13, bf_d : 11;
	s32 sbf : 5;
	union { u32 w; u16 h[2]; } un;
	struct { u8 x, y; } anon_s;
	union { u16 aa; u8 bb; };
	u16 grid[2][3];
	struct { s16 v; char c[2]; } recs[2];
	void *ptr;
	const char *cptr;
	cv_u32 cv;
	u64 last;
};

struct with_float { u32 before; float f; u32 after; };

struct {
	__uint(type, 1 /* BPF_MAP_TYPE_HASH */);
	__uint(max_entries, 64);
	__type(key, struct key_t);
	__type(value, struct every);
} every_hash SEC(".maps");

struct {
	__uint(type, 2 /* BPF_MAP_TYPE_ARRAY */);
	__uint(max_entries, 3);
	__type(key, u32);
	__type(value, struct with_float);
} float_array SEC(".maps");

struct {
	__uint(type, 5 /* BPF_MAP_TYPE_PERCPU_HASH */);
	__uint(max_entries, 8);
	__type(key, enum sgn);
	__type(value, struct key_t);
} pc_hash SEC(".maps");

struct {
	__uint(type, 2 /* BPF_MAP_TYPE_ARRAY */);
	__uint(max_entries, 2);
	__type(key, u32);
	__type(value, u64[3]);
} arr_of_arr SEC(".maps");

u64 counter = 7;
char greeting[8] = "hi\\\"'";
struct key_t zeroed;
const volatile enum wide mode = W_HUGE;

SEC("socket")
int use(void *ctx)
{
	counter++;
	zeroed.port = greeting[0];
	return mode == W_ONE;
}

char LICENSE[] SEC("license") = "GPL";
