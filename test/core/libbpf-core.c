/* Test oracle for CO-RE: open each BPF object with the system libbpf (optionally with a custom
 * target BTF via btf_custom_path), load it, and print libbpf's debug log, whose "relo #N" lines
 * state every CO-RE decision libbpf made, and the instructions of each program it loads.
 * The object's programs never reach the kernel: their BPF_PROG_LOAD is answered with a stand-in
 * fd, so every program is relocated and seen even when the verifier would reject it, and the run
 * stays fast. libbpf's own feature probes do reach the kernel (it needs root for those and maps).
 * Built by test/core/oracle.ts. */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

static long (*real_syscall)(long, ...);

/* Print the instructions of every BPF_PROG_LOAD libbpf issues, then pass the call on. */
long syscall(long nr, ...) {
  va_list ap;
  va_start(ap, nr);
  long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
  long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
  va_end(ap);
  if (!real_syscall) real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  if (nr == __NR_bpf && a == BPF_PROG_LOAD) {
    union bpf_attr *attr = (union bpf_attr *)b;
    const unsigned char *p = (const unsigned char *)(unsigned long)attr->insns;
    printf("@prog\t%s\t", attr->prog_name);
    for (unsigned i = 0; i < attr->insn_cnt * 8; i++) printf("%02x", p[i]);
    printf("\n");
    fflush(stdout);
    /* libbpf's probes load unnamed programs or "libbpf_nametest"; everything else is the object's. */
    if (attr->prog_name[0] && strcmp(attr->prog_name, "libbpf_nametest") != 0) return open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  return real_syscall(nr, a, b, c, d, e, f);
}

static int print_all(enum libbpf_print_level level, const char *fmt, va_list ap) {
  (void)level;
  return vfprintf(stdout, fmt, ap);
}

int main(int argc, char **argv) {
  const char *btf = NULL, *only = NULL;
  libbpf_set_print(print_all);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--btf") == 0 && i + 1 < argc) {
      btf = argv[++i];
      continue;
    }
    /* --only NAME: load just that program of the following objects (the others' autoload off). */
    if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
      continue;
    }
    printf("@object\t%s\n", argv[i]);
    LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = btf);
    struct bpf_object *obj = bpf_object__open_file(argv[i], &opts);
    if (!obj) {
      printf("@open-failed\n");
      continue;
    }
    if (only) {
      struct bpf_program *p;
      bpf_object__for_each_program(p, obj) bpf_program__set_autoload(p, strcmp(bpf_program__name(p), only) == 0);
    }
    printf("@run\t*\n");
    printf("@load\t%d\n", bpf_object__load(obj));
    bpf_object__close(obj);
    fflush(stdout);
  }
  return 0;
}
