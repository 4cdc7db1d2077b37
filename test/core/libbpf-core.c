/* Test oracle for CO-RE: open each BPF object with the system libbpf (optionally with a custom
 * target BTF via btf_custom_path), load it, and print libbpf's debug log, whose "relo #N" lines
 * state every CO-RE decision libbpf made. Built by test/core/oracle.ts; needs root to load. */
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int print_all(enum libbpf_print_level level, const char *fmt, va_list ap) {
  (void)level;
  return vfprintf(stdout, fmt, ap);
}

int main(int argc, char **argv) {
  const char *btf = NULL;
  libbpf_set_print(print_all);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--btf") == 0 && i + 1 < argc) {
      btf = argv[++i];
      continue;
    }
    printf("@object\t%s\n", argv[i]);
    LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = btf);
    struct bpf_object *obj = bpf_object__open_file(argv[i], &opts);
    if (!obj) {
      printf("@open-failed\n");
      continue;
    }
    int err = bpf_object__load(obj);
    printf("@load\t%d\n", err);
    bpf_object__close(obj);
    fflush(stdout);
  }
  return 0;
}
