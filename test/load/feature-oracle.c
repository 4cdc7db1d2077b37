// The kernel's answers to feature probes, asked through libbpf's bpf() wrappers instead of our door:
// the oracle for test/load/feature.test.ts and test/cli/feature.test.ts. Reads one request a line on
// stdin and prints one answer a line:
//   prog TYPE ATTACH FLAGS KVER ATTACH_BTF_ID LOG_LEVEL HEXINSNS -> prog<TAB>ok<TAB>errno<TAB>log
//   map TYPE KEY VALUE MAX FLAGS EXTRA SPINLOCK_BTF INNER VMLINUX_VALUE_ID -> map<TAB>ok<TAB>errno
// (log with newlines written as "\n"). SPINLOCK_BTF=1 gives the map BTF "struct val { int cnt;
// struct bpf_spin_lock l; }" (key type 1 = int, value type 3), INNER=1 an inner hash map template.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

static char logbuf[1 << 16];

static int spinlock_btf(void) {
	struct btf *btf = btf__new_empty();
	if (!btf) return -errno;
	int i = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	int lock = btf__add_struct(btf, "bpf_spin_lock", 4);
	btf__add_field(btf, "val", i, 0, 0);
	int val = btf__add_struct(btf, "val", 8);
	btf__add_field(btf, "cnt", i, 0, 0);
	btf__add_field(btf, "l", lock, 32, 0);
	if (i != 1 || lock != 2 || val != 3) return -EINVAL;
	int err = btf__load_into_kernel(btf);
	int fd = err ? err : dup(btf__fd(btf));
	btf__free(btf);
	return fd;
}

static void prog(char *args) {
	unsigned type, attach, flags, kver, btf_id, level;
	char hex[70000];
	if (sscanf(args, "%u %u %u %u %u %u %69999s", &type, &attach, &flags, &kver, &btf_id, &level, hex) != 7) {
		printf("error\tbad prog line\n");
		return;
	}
	size_t n = strlen(hex) / 2;
	unsigned char *insns = malloc(n ? n : 1);
	for (size_t i = 0; i < n; i++) sscanf(hex + 2 * i, "%2hhx", &insns[i]);
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach, .prog_flags = flags, .kern_version = kver,
		    .attach_btf_id = btf_id);
	logbuf[0] = 0;
	if (level) {
		opts.log_buf = logbuf;
		opts.log_size = sizeof(logbuf);
		opts.log_level = level;
	}
	int fd = bpf_prog_load(type, NULL, "GPL", (const struct bpf_insn *)insns, n / 8, &opts);
	int err = fd < 0 ? errno : 0;
	if (fd >= 0) close(fd);
	free(insns);
	printf("prog\t%d\t%d\t", fd >= 0, err);
	for (char *p = logbuf; *p; p++) {
		if (*p == '\n') fputs("\\n", stdout);
		else if (*p == '\t') putchar(' ');
		else putchar(*p);
	}
	putchar('\n');
}

static void map(char *args) {
	unsigned type, key, value, max, flags, spin, inner, vmlinux_id;
	unsigned long long extra;
	if (sscanf(args, "%u %u %u %u %u %llu %u %u %u", &type, &key, &value, &max, &flags, &extra, &spin, &inner, &vmlinux_id) != 9) {
		printf("error\tbad map line\n");
		return;
	}
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags, .map_extra = extra, .btf_vmlinux_value_type_id = vmlinux_id);
	int btf_fd = -1, inner_fd = -1;
	if (spin) {
		btf_fd = spinlock_btf();
		if (btf_fd < 0) {
			printf("map\t0\t%d\n", -btf_fd);
			return;
		}
		opts.btf_fd = btf_fd;
		opts.btf_key_type_id = 1;
		opts.btf_value_type_id = 3;
	}
	if (inner) {
		inner_fd = bpf_map_create(BPF_MAP_TYPE_HASH, NULL, 4, 4, 1, NULL);
		opts.inner_map_fd = inner_fd;
	}
	int fd = bpf_map_create(type, NULL, key, value, max, &opts);
	int err = fd < 0 ? errno : 0;
	if (fd >= 0) close(fd);
	if (btf_fd >= 0) close(btf_fd);
	if (inner_fd >= 0) close(inner_fd);
	printf("map\t%d\t%d\n", fd >= 0, err);
}

int main(void) {
	static char line[140000];
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "prog ", 5)) prog(line + 5);
		else if (!strncmp(line, "map ", 4)) map(line + 4);
		else printf("error\tunknown request\n");
	}
	return 0;
}
