// Maps whose keys and values exercise every BTF kind the typed decoder handles: ints of every
// width and sign, bool, enums, char arrays, nested structs, unions, bitfields, pointers, arrays.
// Built by the typed-map test with clang-19 (not a committed fixture).
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

enum color { RED = 1, GREEN = 2, BLUE = 40 };

struct inner { u16 a; s8 b; u8 c[3]; };

union both { u32 word; u8 bytes[4]; };

struct key_t { u32 pid; char comm[8]; };

struct rich {
	u64 big;
	s64 neg;
	s32 i32;
	s16 i16;
	_Bool flag;
	char name[12];
	enum color col;
	struct inner in;
	union both u;
	u32 bf_lo : 3, bf_mid : 9, bf_hi : 20;
	void *ptr;
	u32 arr[4];
	u8 raw[5];
};

struct {
	__uint(type, 1 /* BPF_MAP_TYPE_HASH */);
	__uint(max_entries, 64);
	__type(key, struct key_t);
	__type(value, struct rich);
} rich_hash SEC(".maps");

struct {
	__uint(type, 6 /* BPF_MAP_TYPE_PERCPU_ARRAY */);
	__uint(max_entries, 4);
	__type(key, u32);
	__type(value, struct inner);
} pc_array SEC(".maps");

SEC("socket")
int noop(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
