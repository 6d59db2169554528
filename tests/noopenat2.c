/*
 * noopenat2.c - runs a program with openat2 taken away, as a container's
 * seccomp filter takes it away: noopenat2 [-e EPERM] PROGRAM [ARGS...].
 *
 * Installs a seccomp BPF filter (after PR_SET_NO_NEW_PRIVS, so no
 * privilege is needed) that fails openat2 with ENOSYS (or EPERM with
 * -e EPERM) and allows every other call, then execs PROGRAM.  The filter
 * is inherited by every thread and child of PROGRAM.  Exit 77 (skip) when
 * the filter cannot be installed here, 127 when PROGRAM cannot be run.
 * Used by tests/confine_test.c to start oviod.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
#define NOOPENAT2_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NOOPENAT2_ARCH AUDIT_ARCH_AARCH64
#endif

/* openat2's number is the same on every architecture (since 5.6). */
#define NOOPENAT2_NR 437

int
main(int argc, char **argv)
{
	int a = 1, err = ENOSYS;

	if (argc > 2 && strcmp(argv[1], "-e") == 0) {
		err = strcmp(argv[2], "EPERM") == 0 ? EPERM : ENOSYS;
		a   = 3;
	}
	if (a >= argc) {
		fprintf(
		    stderr, "usage: noopenat2 [-e EPERM] PROGRAM [ARGS...]\n");
		return (2);
	}
#ifdef NOOPENAT2_ARCH
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NOOPENAT2_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NOOPENAT2_NR, 0, 1),
		BPF_STMT(BPF_RET | BPF_K,
		    SECCOMP_RET_ERRNO | ((unsigned) err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len    = (unsigned short) (sizeof(filter) / sizeof(filter[0])),
		.filter = filter,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
	    || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		fprintf(stderr, "noopenat2: seccomp: %s\n", strerror(errno));
		return (77);
	}
#else
	fprintf(stderr, "noopenat2: no seccomp architecture known here\n");
	return (77);
#endif
	execv(argv[a], argv + a);
	fprintf(stderr, "noopenat2: %s: %s\n", argv[a], strerror(errno));
	return (127);
}
