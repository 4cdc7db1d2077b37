// Types for the DWARF → BTF oracle test (test/elf/dwarf-btf.test.ts). Built twice by the test:
// with -DANCHOR every type is the type of a global, so clang's own BTF holds it (the oracle);
// without, the types are reached only through local pointers, so they are in DWARF alone.

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef long long s64;
typedef u32 u32_alias;
typedef u32_alias u32_alias2;

enum small_e { SM_A, SM_B = 3, SM_C = 200 } __attribute__((packed));
enum half_e { HF_A = -2, HF_B = 1000 } __attribute__((packed));
enum int_e { IE_A, IE_B = -7, IE_C = 0x7fffffff };
enum uint_e { UE_A = 1, UE_B = 0xfffffff0u };
enum big_e { BE_A = 1, BE_B = 0x123456789aLL, BE_C = -5 };
enum ubig_e { UB_A = 0xfedcba9876543210ULL };
typedef enum int_e int_e_t;

struct inner {
	u8 tag;
	u64 value;
};

union number {
	s64 i;
	double d;
	float f;
	u8 bytes[8];
};

struct with_bits {
	u32 a : 3;
	u32 b : 5;
	int c : 7;
	u8 d : 1;
	_Bool flag : 1;
	u64 wide : 40;
	enum int_e e : 4;
	u16 after;
	u32 whole : 32;
};

struct list;
struct list_node {
	struct list_node *next;
	struct list *owner;
	const volatile int *cv;
};

struct anon_members {
	int kind;
	union {
		u32 as_u32;
		struct {
			u16 lo;
			u16 hi;
		};
	};
	struct {
		char x;
		long y;
	} named_anon;
};

struct matrix {
	int cells[3][4];
	char names[2][3][5];
	struct inner pairs[2];
	u8 tail[];
};

typedef struct matrix matrix_t;
typedef const matrix_t cmatrix_t;

struct callbacks {
	int (*handler)(void *ctx, u32 flags);
	void (*done)(struct callbacks *self);
	long (*vararg)(const char *fmt, ...);
};

/* A cycle through a typedef and a function pointer: reaching cyc_t first revisits cyc_t. */
typedef struct cyc *cyc_t;
struct cyc {
	void (*cb)(cyc_t self);
	int x;
};

struct everything {
	struct inner in;
	union number num;
	struct with_bits bits;
	struct anon_members anon;
	matrix_t *m;
	cmatrix_t *cm;
	enum small_e s;
	enum half_e h;
	enum int_e ie;
	enum uint_e ue;
	enum big_e be;
	enum ubig_e ub;
	int_e_t typed_e;
	u32_alias2 alias;
	char comm[16];
	const char *name;
	void *opaque;
	struct list_node node;
	struct callbacks cb;
	volatile u64 counter;
	_Bool ok;
	s8 tiny;
};

struct event {
	u32 pid;
	char comm[16];
	u64 timestamp;
	struct inner detail;
};

#ifdef ANCHOR
struct inner g_inner;
union number g_number;
struct with_bits g_bits;
struct list_node g_node;
struct anon_members g_anon;
struct matrix g_matrix;
cmatrix_t *g_cmatrix;
struct callbacks g_cb;
struct everything g_all;
struct event g_event;
enum small_e g_small;
enum half_e g_half;
enum int_e g_int;
enum uint_e g_uint;
enum big_e g_big;
enum ubig_e g_ubig;
int_e_t g_int_t;
u32_alias2 g_alias;
cyc_t g_cyc_t;
struct cyc g_cyc;
#endif

__attribute__((section("socket"), used)) int prog(void *ctx)
{
	int r = 0;
#ifndef ANCHOR
	/* Each pointer is read through, so the locals (and their types) stay in the debug info. */
	struct everything *all = ctx;
	struct event *ev = ctx;
	struct list_node *node = ctx;
	struct callbacks *cb = ctx;
	cmatrix_t *cm = ctx;
	enum small_e *sm = ctx;
	enum half_e *hf = ctx;
	enum uint_e *ue = ctx;
	enum big_e *be = ctx;
	enum ubig_e *ub = ctx;
	int_e_t *ie = ctx;
	u32_alias2 *al = ctx;
	cyc_t cy = ctx;
	r += *(volatile char *)all + *(volatile char *)ev + *(volatile char *)node + *(volatile char *)cb;
	r += *(volatile char *)cm + *(volatile char *)sm + *(volatile char *)hf + *(volatile char *)ue;
	r += *(volatile char *)be + *(volatile char *)ub + *(volatile char *)ie + *(volatile char *)al;
	r += *(volatile char *)cy;
#endif
	return r;
}

char LICENSE[] __attribute__((section("license"), used)) = "GPL";
