// libbpf's side of the cgroup attach-by-section test: open and load OBJ, attach every program to
// the cgroup directory CG with bpf_program__attach_cgroup (the attach type libbpf takes from the
// section name), then run `bpftool cgroup show CG -j` while the links are held and exit.
// Build: clang-19 -O1 -o cgroup-attach-oracle cgroup-attach-oracle.c -lbpf
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	char cmd[4096];
	int cg;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OBJ CGROUP_DIR\n", argv[0]);
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "libbpf could not load %s\n", argv[1]);
		return 1;
	}
	cg = open(argv[2], O_RDONLY | O_DIRECTORY);
	if (cg < 0) {
		perror(argv[2]);
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__attach_cgroup(prog, cg)) {
			fprintf(stderr, "libbpf could not attach %s\n", bpf_program__name(prog));
			return 1;
		}
	}
	snprintf(cmd, sizeof(cmd), "bpftool cgroup show '%s' -j", argv[2]);
	fflush(stdout);
	return system(cmd) == 0 ? 0 : 1;
}
