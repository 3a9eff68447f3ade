//go:build cgo

// sbxinit: PID 1 of a lambdad namespaced sandbox.
//
// This code runs as an ELF constructor, before the Go runtime starts, in any
// binary that links package sbxinit. It does nothing unless argv[0] is
// "lambdad-sbxinit" AND the process is PID 1 of a fresh PID namespace, which
// is how internal/sandbox starts it (clone of /proc/self/exe). Otherwise it
// returns and the Go program runs normally.
//
// Argument protocol (all flags before "--"):
//
//	-status FD     pipe to the daemon; lines: "ok PID" | "err MSG" | "exit WAITSTATUS"
//	-sync FD       read one byte before anything else (cgroup v1 attach done)
//	-netns FD      setns(FD, CLONE_NEWNET) first
//	-root DIR      host directory over which the new root tmpfs is mounted
//	-bind PATH     host file/dir bound read-only at the same path inside
//	-symlink N T   symlink N -> T inside the new root
//	-file SRC DST  host file SRC bound read-only at DST inside (after -bind)
//	-task DIR      bound read-only at /var/task
//	-layer DIR     repeatable; merged read-only at /opt (later wins)
//	-runtime DIR   bound read-only at /var/runtime
//	-tmp MB        size of the private tmpfs /tmp
//	-hostname H    UTS hostname
//	-uid N -gid N  credentials of the runtime
//	-cwd DIR       working directory of the runtime
//	-- PATH ARGV0 ARGS...
//
// PID 1 stays as a reaper: it forwards catchable signals to the runtime,
// reaps orphans, and when the runtime exits it reports the wait status on the
// status pipe and exits, which makes the kernel kill the whole PID namespace.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#define MAXLIST 256

static int status_fd = -1;

static void sbx_report(const char *fmt, ...) {
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0) return;
	if (n >= (int)sizeof buf) n = sizeof buf - 1;
	if (status_fd >= 0) {
		ssize_t w = write(status_fd, buf, n);
		(void)w;
	}
}

static void sbx_fail(const char *what, const char *arg) {
	int e = errno;
	sbx_report("err %s %s: %s\n", what, arg ? arg : "", strerror(e));
	_exit(126);
}

static void sbx_usage(const char *msg) {
	sbx_report("err usage: %s\n", msg);
	_exit(126);
}

// mkdirs creates every missing directory of path (absolute), mode 0755.
static void sbx_mkdirs(const char *path) {
	char buf[4096];
	size_t n = strlen(path);
	if (n >= sizeof buf) { errno = ENAMETOOLONG; sbx_fail("mkdir", path); }
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/') continue;
		*p = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST) sbx_fail("mkdir", buf);
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST) sbx_fail("mkdir", buf);
}

static void sbx_join(char *out, size_t size, const char *a, const char *b) {
	int n = snprintf(out, size, "%s%s", a, b);
	if (n < 0 || (size_t)n >= size) { errno = ENAMETOOLONG; sbx_fail("path", b); }
}

// bind_ro binds src read-only (nosuid, nodev) at dst, creating dst (a
// directory or an empty file, matching src).
static void sbx_bind_ro(const char *src, const char *dst) {
	struct stat st;
	if (stat(src, &st) < 0) sbx_fail("stat", src);
	if (S_ISDIR(st.st_mode)) {
		sbx_mkdirs(dst);
	} else if (access(dst, F_OK) != 0) {
		char parent[4096];
		snprintf(parent, sizeof parent, "%s", dst);
		char *slash = strrchr(parent, '/');
		if (slash && slash != parent) { *slash = 0; sbx_mkdirs(parent); }
		int fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0) sbx_fail("create", dst);
		close(fd);
	}
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0) sbx_fail("bind", src);
	if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		sbx_fail("remount ro", dst);
}

static void sbx_mknod(const char *root, const char *name, unsigned maj, unsigned min) {
	char p[4096];
	sbx_join(p, sizeof p, root, name);
	if (mknod(p, S_IFCHR | 0666, makedev(maj, min)) < 0) sbx_fail("mknod", name);
	if (chmod(p, 0666) < 0) sbx_fail("chmod", name);
}

static void sbx_symlink(const char *root, const char *name, const char *target) {
	char p[4096];
	sbx_join(p, sizeof p, root, name);
	char parent[4096];
	snprintf(parent, sizeof parent, "%s", p);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) { *slash = 0; sbx_mkdirs(parent); }
	if (symlink(target, p) < 0) sbx_fail("symlink", name);
}

static int sbx_atoi(const char *s) {
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 0x7fffffff) sbx_usage("bad number");
	return (int)v;
}

static void sbx_drop_caps(unsigned long long keep) {
	int last = 63;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f) {
		if (fscanf(f, "%d", &last) != 1) last = 63;
		fclose(f);
	}
	for (int c = 0; c <= last; c++) {
		if (keep & (1ULL << c)) continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) sbx_fail("capbset drop", NULL);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		sbx_fail("clear ambient caps", NULL);
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	d[0].effective = d[0].permitted = (unsigned)(keep & 0xffffffffULL);
	d[1].effective = d[1].permitted = (unsigned)(keep >> 32);
	if (syscall(SYS_capset, &h, d) < 0) sbx_fail("capset", NULL);
}

static void sbx_main(int argc, char **argv, char **envp) {
	int sync_fd = -1, netns_fd = -1, tmp_mb = 0, uid = -1, gid = -1;
	const char *root = NULL, *task = NULL, *runtime = NULL, *hostname = NULL, *cwd = "/";
	const char *binds[MAXLIST], *links[MAXLIST][2], *layers[MAXLIST], *files[MAXLIST][2];
	int nbinds = 0, nlinks = 0, nlayers = 0, nfiles = 0;
	int i = 1;

	// -status comes first so that every later error can be reported.
	if (argc > 2 && strcmp(argv[1], "-status") == 0) {
		status_fd = sbx_atoi(argv[2]);
		i = 3;
	}
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) { i++; break; }
		if (i + 1 >= argc) sbx_usage(a);
		const char *v = argv[++i];
		if (strcmp(a, "-sync") == 0) sync_fd = sbx_atoi(v);
		else if (strcmp(a, "-netns") == 0) netns_fd = sbx_atoi(v);
		else if (strcmp(a, "-root") == 0) root = v;
		else if (strcmp(a, "-bind") == 0) { if (nbinds == MAXLIST) sbx_usage("too many binds"); binds[nbinds++] = v; }
		else if (strcmp(a, "-symlink") == 0) {
			if (i + 1 >= argc || nlinks == MAXLIST) sbx_usage("symlink");
			links[nlinks][0] = v; links[nlinks][1] = argv[++i]; nlinks++;
		}
		else if (strcmp(a, "-file") == 0) {
			if (i + 1 >= argc || nfiles == MAXLIST) sbx_usage("file");
			files[nfiles][0] = v; files[nfiles][1] = argv[++i]; nfiles++;
		}
		else if (strcmp(a, "-task") == 0) task = v;
		else if (strcmp(a, "-layer") == 0) { if (nlayers == MAXLIST) sbx_usage("too many layers"); layers[nlayers++] = v; }
		else if (strcmp(a, "-runtime") == 0) runtime = v;
		else if (strcmp(a, "-tmp") == 0) tmp_mb = sbx_atoi(v);
		else if (strcmp(a, "-hostname") == 0) hostname = v;
		else if (strcmp(a, "-uid") == 0) uid = sbx_atoi(v);
		else if (strcmp(a, "-gid") == 0) gid = sbx_atoi(v);
		else if (strcmp(a, "-cwd") == 0) cwd = v;
		else sbx_usage(a);
	}
	if (i >= argc - 1) sbx_usage("missing -- PATH ARGV0");
	if (!root || uid < 0 || gid < 0 || tmp_mb <= 0) sbx_usage("missing -root, -uid, -gid or -tmp");
	char *const *rargv = &argv[i + 1];
	const char *rpath = argv[i];

	if (netns_fd >= 0) {
		if (setns(netns_fd, CLONE_NEWNET) < 0) sbx_fail("setns", "net");
		close(netns_fd);
	}
	if (sync_fd >= 0) {
		char b;
		ssize_t n;
		do n = read(sync_fd, &b, 1); while (n < 0 && errno == EINTR);
		if (n != 1) { errno = EPIPE; sbx_fail("sync", NULL); }
		close(sync_fd);
	}

	// Our own oom_score_adj is -1000 (when CAP_SYS_RESOURCE allows) so that the
	// OOM killer picks the runtime, whose death we report; the runtime resets
	// it to 0 before exec. Best effort: PID 1 is tiny anyway.
	int oom_lowered = 0;
	{
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			oom_lowered = write(fd, "-1000", 5) == 5;
			close(fd);
		}
	}

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) sbx_fail("make / private", NULL);
	if (mount("lambdad", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
		sbx_fail("mount root tmpfs", root);

	char p[4096], q[4096];
	for (int k = 0; k < nbinds; k++) {
		sbx_join(p, sizeof p, root, binds[k]);
		sbx_bind_ro(binds[k], p);
	}
	for (int k = 0; k < nlinks; k++) sbx_symlink(root, links[k][0], links[k][1]);
	for (int k = 0; k < nfiles; k++) {
		sbx_join(p, sizeof p, root, files[k][1]);
		sbx_bind_ro(files[k][0], p);
	}

	sbx_join(p, sizeof p, root, "/var/task");
	sbx_mkdirs(p);
	if (task) sbx_bind_ro(task, p);

	sbx_join(p, sizeof p, root, "/opt");
	sbx_mkdirs(p);
	if (nlayers == 1) {
		sbx_bind_ro(layers[0], p);
	} else if (nlayers > 1) {
		// overlayfs: the first lowerdir is the top, so list the last layer first.
		char opts[8192];
		size_t off = 0;
		off += snprintf(opts, sizeof opts, "lowerdir=");
		for (int k = nlayers - 1; k >= 0; k--) {
			int n = snprintf(opts + off, sizeof opts - off, "%s%s", layers[k], k ? ":" : "");
			if (n < 0 || (size_t)n >= sizeof opts - off) { errno = E2BIG; sbx_fail("overlay options", NULL); }
			off += n;
		}
		if (mount("overlay", p, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, opts) < 0)
			sbx_fail("mount overlay", "/opt");
	}

	sbx_join(p, sizeof p, root, "/var/runtime");
	sbx_mkdirs(p);
	if (runtime) sbx_bind_ro(runtime, p);

	sbx_join(p, sizeof p, root, "/tmp");
	sbx_mkdirs(p);
	snprintf(q, sizeof q, "mode=1777,size=%dm", tmp_mb);
	if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, q) < 0) sbx_fail("mount tmpfs", "/tmp");

	sbx_join(p, sizeof p, root, "/dev");
	sbx_mkdirs(p);
	if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0)
		sbx_fail("mount tmpfs", "/dev");
	char devroot[4096];
	snprintf(devroot, sizeof devroot, "%s", p);
	sbx_mknod(devroot, "/null", 1, 3);
	sbx_mknod(devroot, "/zero", 1, 5);
	sbx_mknod(devroot, "/full", 1, 7);
	sbx_mknod(devroot, "/random", 1, 8);
	sbx_mknod(devroot, "/urandom", 1, 9);
	sbx_symlink(devroot, "/fd", "/proc/self/fd");
	sbx_symlink(devroot, "/stdin", "/proc/self/fd/0");
	sbx_symlink(devroot, "/stdout", "/proc/self/fd/1");
	sbx_symlink(devroot, "/stderr", "/proc/self/fd/2");
	if (mount(NULL, p, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0)
		sbx_fail("remount ro", "/dev");

	sbx_join(p, sizeof p, root, "/proc");
	sbx_mkdirs(p);
	if (mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) sbx_fail("mount proc", NULL);

	if (chdir(root) < 0) sbx_fail("chdir", root);
	if (syscall(SYS_pivot_root, ".", ".") < 0) sbx_fail("pivot_root", root);
	if (umount2(".", MNT_DETACH) < 0) sbx_fail("detach old root", NULL);
	if (chdir("/") < 0) sbx_fail("chdir", "/");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
		sbx_fail("remount ro", "/");
	if (hostname && sethostname(hostname, strlen(hostname)) < 0) sbx_fail("sethostname", hostname);

	// Every inherited descriptor above stderr except the status pipe is closed.
	unsigned keep = status_fd >= 3 ? (unsigned)status_fd : 2;
	if (keep > 3 && syscall(SYS_close_range, 3, keep - 1, 0) < 0) sbx_fail("close_range", NULL);
	if (syscall(SYS_close_range, keep + 1, ~0U, 0) < 0) sbx_fail("close_range", NULL);

	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);

	int errp[2];
	if (pipe2(errp, O_CLOEXEC) < 0) sbx_fail("pipe", NULL);
	pid_t child = fork();
	if (child < 0) sbx_fail("fork", NULL);
	if (child == 0) {
		int e;
		const char *stage;
		close(errp[0]);
		close(status_fd);
		sigprocmask(SIG_SETMASK, &old, NULL);
		stage = "oom_score_adj";
		if (oom_lowered) {
			int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, "0", 1) < 0) goto fail;
			close(fd);
		}
		stage = "setsid";
		if (setsid() < 0) goto fail;
		// Bounding set first: dropping it needs CAP_SETPCAP, which the uid change removes.
		for (int c = 0; c <= 63; c++) prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
		stage = "setgroups";
		gid_t g = (gid_t)gid;
		if (setgroups(1, &g) < 0) goto fail;
		stage = "setresgid";
		if (setresgid(gid, gid, gid) < 0) goto fail;
		stage = "setresuid";
		if (setresuid(uid, uid, uid) < 0) goto fail;
		stage = "capset";
		{
			struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
			struct __user_cap_data_struct d[2];
			memset(d, 0, sizeof d);
			if (syscall(SYS_capset, &h, d) < 0) goto fail;
		}
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		stage = "no_new_privs";
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) goto fail;
		// The credential change cleared the parent-death signal; re-arm it.
		stage = "pdeathsig";
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) goto fail;
		stage = "chdir";
		if (chdir(cwd) < 0) goto fail;
		stage = "exec";
		execve(rpath, rargv, envp);
	fail:
		e = errno;
		{
			char msg[512];
			int n = snprintf(msg, sizeof msg, "%s %s: %s", stage, stage[0] == 'e' ? rpath : "", strerror(e));
			if (n > 0) {
				ssize_t w = write(errp[1], msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
				(void)w;
			}
		}
		_exit(127);
	}
	close(errp[1]);
	{
		char msg[512];
		ssize_t n;
		do n = read(errp[0], msg, sizeof msg - 1); while (n < 0 && errno == EINTR);
		close(errp[0]);
		if (n > 0) {
			msg[n] = 0;
			sbx_report("err %s\n", msg);
			waitpid(child, NULL, 0);
			_exit(126);
		}
	}
	// PID 1 keeps only CAP_KILL, to forward signals to the runtime (another uid).
	sbx_drop_caps(1ULL << CAP_KILL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) sbx_fail("no_new_privs", NULL);
	sbx_report("ok %d\n", (int)child);

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0) continue;
		if (sig == SIGCHLD) {
			int st;
			pid_t w;
			while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
				if (w == child) {
					sbx_report("exit %d\n", st);
					_exit(0);
				}
			}
			continue;
		}
		kill(child, sig);
	}
}

__attribute__((constructor)) static void lambdad_sbxinit(int argc, char **argv, char **envp) {
	if (argc < 1 || argv == NULL || argv[0] == NULL) return;
	if (strcmp(argv[0], "lambdad-sbxinit") != 0) return;
	if (getpid() != 1) return;
	sbx_main(argc, argv, envp);
	_exit(126);
}
