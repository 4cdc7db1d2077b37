/* Test oracle: open and load a BPF object with the system libbpf, printing every BPF_MAP_CREATE
 * BPF_PROG_LOAD and BPF_MAP_UPDATE_ELEM it issues (attributes, exact instructions, initial values) before passing the call
 * on to the kernel. Built by test/link/oracle.ts; needs root. */
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

long syscall(long nr, ...) {
  va_list ap;
  va_start(ap, nr);
  long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
  long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
  va_end(ap);
  if (!real_syscall) real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  long ret = real_syscall(nr, a, b, c, d, e, f);
  if (nr != __NR_bpf) return ret;
  union bpf_attr *attr = (union bpf_attr *)b;
  if (a == BPF_MAP_CREATE) {
    printf("map\t%ld\t%s\t%u\t%u\t%u\t%u\t%u\n", ret, attr->map_name, attr->map_type, attr->key_size,
           attr->value_size, attr->max_entries, attr->map_flags);
    if (ret >= 0 && ret < 4096) { value_size[ret] = attr->value_size; key_size[ret] = attr->key_size; }
  } else if (a == BPF_MAP_UPDATE_ELEM && attr->map_fd < 4096 && value_size[attr->map_fd]) {
    const unsigned char *v = (const unsigned char *)(unsigned long)attr->value;
    printf("update\t%ld\t%u\t", ret, attr->map_fd);
    for (unsigned k = 0; k < value_size[attr->map_fd]; k++) printf("%02x", v[k]);
    const unsigned char *key = (const unsigned char *)(unsigned long)attr->key;
    printf("\t");
    for (unsigned k = 0; key && k < key_size[attr->map_fd]; k++) printf("%02x", key[k]);
    printf("\n");
  } else if (a == BPF_PROG_LOAD) {
    const struct bpf_insn *insns = (const struct bpf_insn *)(unsigned long)attr->insns;
    printf("prog\t%ld\t%s\t%u\t%u\t%u\t%s\t", ret, attr->prog_name, attr->prog_type,
           attr->expected_attach_type, attr->prog_flags, (const char *)(unsigned long)attr->license);
    for (unsigned i = 0; i < attr->insn_cnt; i++) {
      const unsigned char *p = (const unsigned char *)&insns[i];
      for (int k = 0; k < 8; k++) printf("%02x", p[k]);
    }
    /* Fields past the attr size the caller passed are not its to read. */
    int has_info = (unsigned long)c >= offsetof(union bpf_attr, line_info_cnt) + sizeof(attr->line_info_cnt);
    unsigned fcnt = has_info && attr->func_info ? attr->func_info_cnt : 0;
    unsigned lcnt = has_info && attr->line_info ? attr->line_info_cnt : 0;
    printf("\tfunc:");
    for (unsigned i = 0; i < fcnt; i++) {
      const unsigned *r = (const unsigned *)((const char *)(unsigned long)attr->func_info + i * attr->func_info_rec_size);
      printf("%s%u:%u", i ? "," : "", r[0], r[1]);
    }
    printf("\tline:");
    for (unsigned i = 0; i < lcnt; i++) {
      const unsigned *r = (const unsigned *)((const char *)(unsigned long)attr->line_info + i * attr->line_info_rec_size);
      printf("%s%u:%u:%u:%u", i ? "," : "", r[0], r[1], r[2], r[3]);
    }
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
  /* --sections NAME...: print libbpf_prog_type_by_name() for each section name. */
  if (argc > 1 && strcmp(argv[1], "--sections") == 0) {
    for (int i = 2; i < argc; i++) {
      enum bpf_prog_type pt;
      enum bpf_attach_type at;
      int err = libbpf_prog_type_by_name(argv[i], &pt, &at);
      printf("section\t%s\t%d\t%d\t%d\n", argv[i], err, err ? -1 : (int)pt, err ? -1 : (int)at);
    }
    return 0;
  }
  for (int i = 1; i < argc; i++) {
    printf("object\t%s\n", argv[i]);
    struct bpf_object *obj = bpf_object__open_file(argv[i], NULL);
    if (!obj) { printf("open-failed\n"); continue; }
    struct bpf_map *m;
    bpf_object__for_each_map(m, obj) printf("mapdef\t%s\n", bpf_map__name(m));
    struct bpf_program *p;
    bpf_object__for_each_program(p, obj)
      printf("progdef\t%s\t%s\t%d\t%u\t%u\t%zu\n", bpf_program__name(p), bpf_program__section_name(p),
             bpf_program__autoload(p), bpf_program__type(p), bpf_program__expected_attach_type(p),
             bpf_program__insn_cnt(p));
    int err = bpf_object__load(obj);
    printf("load\t%d\n", err);
    bpf_object__for_each_map(m, obj) printf("mapfd\t%d\t%s\n", bpf_map__fd(m), bpf_map__name(m));
    bpf_object__close(obj);
  }
  return 0;
}
