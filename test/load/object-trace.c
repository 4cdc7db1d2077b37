/* Test oracle for whole-object loads: open and load each object with the system libbpf, printing
 * every BPF_BTF_LOAD (the bytes), BPF_MAP_CREATE (all attributes), BPF_PROG_LOAD (attributes and
 * instructions), BPF_MAP_UPDATE_ELEM and BPF_MAP_FREEZE it issues. `--one NAME` loads only that
 * program (autoload off for the others), for per-program verdicts. Built by object-parity.test.ts. */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long (*real_syscall)(long, ...);
static unsigned value_size[4096], key_size[4096];

static void hex(const void *p, unsigned n) {
  const unsigned char *b = p;
  for (unsigned i = 0; p && i < n; i++) printf("%02x", b[i]);
}

long syscall(long nr, ...) {
  va_list ap;
  va_start(ap, nr);
  long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
  long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
  va_end(ap);
  if (!real_syscall) real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  long ret = real_syscall(nr, a, b, c, d, e, f);
  if (nr != __NR_bpf) return ret;
  union bpf_attr *at = (union bpf_attr *)b;
  if (a == BPF_BTF_LOAD) {
    printf("btf\t%ld\t", ret);
    hex((const void *)(unsigned long)at->btf, at->btf_size);
    printf("\n");
  } else if (a == BPF_MAP_CREATE) {
    printf("map\t%ld\t%s\t%u\t%u\t%u\t%u\t%u\t%d\t%u\t%d\t%u\t%u\t%llu\n", ret, at->map_name, at->map_type,
           at->key_size, at->value_size, at->max_entries, at->map_flags, at->inner_map_fd != 0, at->numa_node,
           at->btf_fd != 0, at->btf_key_type_id, at->btf_value_type_id, (unsigned long long)at->map_extra);
    if (ret >= 0 && ret < 4096) { value_size[ret] = at->value_size; key_size[ret] = at->key_size; }
  } else if (a == BPF_MAP_UPDATE_ELEM && at->map_fd < 4096 && value_size[at->map_fd]) {
    printf("update\t%ld\t%u\t", ret, at->map_fd);
    hex((const void *)(unsigned long)at->key, key_size[at->map_fd]);
    printf("\t");
    hex((const void *)(unsigned long)at->value, value_size[at->map_fd]);
    printf("\n");
  } else if (a == BPF_MAP_FREEZE) {
    printf("freeze\t%ld\t%u\n", ret, at->map_fd);
  } else if (a == BPF_PROG_LOAD) {
    int has_info = (unsigned long)c >= offsetof(union bpf_attr, attach_btf_id) + sizeof(at->attach_btf_id);
    printf("prog\t%ld\t%s\t%u\t%u\t%u\t%u\t%u\t%d\t%u\t%u\t%u\t", ret, at->prog_name, at->prog_type,
           at->expected_attach_type, at->prog_flags, has_info ? at->attach_btf_id : 0, at->kern_version,
           has_info && at->prog_btf_fd != 0, has_info && at->func_info ? at->func_info_cnt : 0,
           has_info && at->line_info ? at->line_info_cnt : 0, at->log_level);
    hex((const void *)(unsigned long)at->insns, at->insn_cnt * 8);
    printf("\n");
  }
  fflush(stdout);
  return ret;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap) {
  (void)level; (void)fmt; (void)ap;
  return 0;
}

int main(int argc, char **argv) {
  libbpf_set_print(quiet);
  const char *one = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--one") == 0 && i + 1 < argc) { one = argv[++i]; continue; }
    printf("object\t%s\t%s\n", argv[i], one ? one : "");
    struct bpf_object *obj = bpf_object__open_file(argv[i], NULL);
    if (!obj) { printf("load\t-1\n"); one = NULL; continue; }
    struct bpf_program *p;
    if (one) bpf_object__for_each_program(p, obj) bpf_program__set_autoload(p, strcmp(bpf_program__name(p), one) == 0);
    int err = bpf_object__load(obj);
    printf("load\t%d\n", err);
    struct bpf_map *m;
    bpf_object__for_each_map(m, obj) printf("mapfd\t%d\t%s\n", bpf_map__fd(m), bpf_map__name(m));
    bpf_object__close(obj);
    one = NULL;
  }
  return 0;
}
