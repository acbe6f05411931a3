/*
 * slowfs: an LD_PRELOAD library that makes one directory tree behave like a slow disk.
 *
 * Calls on files under $SLOWFS_DIR sleep before doing the real work:
 *   write, pwrite(64), writev, pwritev(64/2)      by the "write" delay
 *   fsync, fdatasync, rename, renameat(2)          by the "sync" delay
 * Both delays live in the control file $SLOWFS_CTL as "WRITE_MS SYNC_MS" and are re-read at most
 * every CTL_RECHECK_NS, so a test can switch the slowness on and off while the process runs (a
 * missing or unreadable file means 0 0). $SLOWFS_STATS, if set, receives JSON counters of the
 * calls seen and slowed under the directory: the proof that the calls really went through here.
 *
 * Limits, on purpose: reads are not slowed; only calls made through libc are seen (raw syscalls,
 * io_uring and mmap'd writes bypass it); relative rename paths are resolved against the cwd or
 * dirfd at call time. The sleep happens in the calling thread, as a blocking disk would.
 *
 * Build: cc -shared -fPIC -O2 -o slowfs.so slowfs.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define CTL_RECHECK_NS 100000000LL /* 100 ms: fast enough to switch a phase, cheap enough to ignore */
#define FD_CACHE 65536             /* fds above this are classified on every call (never cached) */

enum op { OP_WRITE, OP_PWRITE, OP_WRITEV, OP_PWRITEV, OP_FSYNC, OP_FDATASYNC, OP_RENAME, OP_COUNT };
static const char *const OP_NAMES[OP_COUNT] = {"write",     "pwrite",    "writev", "pwritev",
                                               "fsync",     "fdatasync", "rename"};

static char dir[PATH_MAX];
static size_t dir_len; /* 0: library inactive (no SLOWFS_DIR) */
static const char *ctl_path;
static const char *stats_path;

static _Atomic int write_ms, sync_ms;
static _Atomic long long next_ctl_check_ns;
static _Atomic unsigned long seen[OP_COUNT], slowed[OP_COUNT], slept_ms;
static _Atomic unsigned long stats_version, stats_written_version;

/*
 * Per-fd classification, checked against the file's identity (dev, inode) on every use instead
 * of being cleared on close: a process may close or dup2 over an fd without going through libc,
 * and a stale "slow" would then hit an unrelated file that reused the number.
 */
struct fd_class {
  _Atomic unsigned long long dev, ino;
  _Atomic int state; /* 0 unknown, 1 under dir, 2 elsewhere */
};
static struct fd_class *cache;

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev2)(int, const struct iovec *, int, off_t, int);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *, unsigned int);

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int under_dir(const char *path) {
  return strncmp(path, dir, dir_len) == 0 && (path[dir_len] == '\0' || path[dir_len] == '/');
}

/* Counters as one JSON line, rewritten whole (write to a temp name, rename) so a reader never
 * sees half of it. Uses the real calls: the stats file must not count or slow itself. */
static void write_stats(void) {
  if (!stats_path) return;
  unsigned long v = atomic_load(&stats_version);
  if (atomic_exchange(&stats_written_version, v) == v) return;
  char buf[1024];
  int n = snprintf(buf, sizeof buf, "{\"pid\":%d,\"slept_ms\":%lu", (int)getpid(), atomic_load(&slept_ms));
  for (int i = 0; i < OP_COUNT; i++)
    n += snprintf(buf + n, sizeof buf - n, ",\"%s\":[%lu,%lu]", OP_NAMES[i], atomic_load(&seen[i]),
                  atomic_load(&slowed[i]));
  n += snprintf(buf + n, sizeof buf - n, "}\n");
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s.%ld.tmp", stats_path, (long)syscall(SYS_gettid));
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ssize_t w = real_write(fd, buf, (size_t)n);
  close(fd);
  if (w == n) real_rename(tmp, stats_path);
  else unlink(tmp);
}

/* Re-read the control file at most every CTL_RECHECK_NS; one caller wins the race to do it. */
static void refresh(void) {
  long long now = now_ns();
  long long due = atomic_load(&next_ctl_check_ns);
  if (now < due || !atomic_compare_exchange_strong(&next_ctl_check_ns, &due, now + CTL_RECHECK_NS)) return;
  int w = 0, s = 0;
  if (ctl_path) {
    int fd = open(ctl_path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char buf[64];
      ssize_t n = read(fd, buf, sizeof buf - 1);
      close(fd);
      if (n > 0) {
        buf[n] = '\0';
        if (sscanf(buf, "%d %d", &w, &s) < 1) w = s = 0;
      }
    }
  }
  atomic_store(&write_ms, w < 0 ? 0 : w);
  atomic_store(&sync_ms, s < 0 ? 0 : s);
  write_stats();
}

static int classify_path(int fd) {
  char link[32], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 2;
  path[n] = '\0';
  return under_dir(path) ? 1 : 2;
}

static int fd_under_dir(int fd) {
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return 0;
  if (fd >= FD_CACHE || !cache) return classify_path(fd) == 1;
  struct fd_class *c = &cache[fd];
  int state = atomic_load(&c->state);
  if (state != 0 && atomic_load(&c->dev) == (unsigned long long)st.st_dev &&
      atomic_load(&c->ino) == (unsigned long long)st.st_ino)
    return state == 1;
  state = classify_path(fd);
  atomic_store(&c->state, 0);
  atomic_store(&c->dev, (unsigned long long)st.st_dev);
  atomic_store(&c->ino, (unsigned long long)st.st_ino);
  atomic_store(&c->state, state);
  return state == 1;
}

/* Absolute form of `path` as seen from `dirfd` (AT_FDCWD or a directory fd), without resolving
 * symlinks: good enough for the paths a program builds from its own data dir. */
static int path_under_dir(int dirfd, const char *path) {
  if (!path) return 0;
  if (path[0] == '/') return under_dir(path);
  char base[PATH_MAX], full[2 * PATH_MAX];
  if (dirfd == AT_FDCWD) {
    if (!getcwd(base, sizeof base)) return 0;
  } else {
    char link[32];
    snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
    ssize_t n = readlink(link, base, sizeof base - 1);
    if (n <= 0) return 0;
    base[n] = '\0';
  }
  snprintf(full, sizeof full, "%s/%s", base, path);
  return under_dir(full);
}

static void pause_ms(enum op op, int ms) {
  atomic_fetch_add(&slowed[op], 1);
  atomic_fetch_add(&slept_ms, (unsigned long)ms);
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
}

/* The one decision every wrapper makes: count the call if it targets the tree, sleep if slow. */
static void maybe_slow(enum op op, int hit) {
  refresh();
  if (!hit) return;
  atomic_fetch_add(&seen[op], 1);
  atomic_fetch_add(&stats_version, 1);
  int ms = (op == OP_FSYNC || op == OP_FDATASYNC || op == OP_RENAME) ? atomic_load(&sync_ms)
                                                                      : atomic_load(&write_ms);
  if (ms > 0) pause_ms(op, ms);
}

/* Only classify when it can matter: slowing is on, or calls are being counted. */
static int watching(void) {
  return dir_len > 0 && (stats_path || atomic_load(&write_ms) > 0 || atomic_load(&sync_ms) > 0);
}

#define FD_CALL(op, fd)                             \
  do {                                              \
    if (!real_write) resolve();                       \
    if (watching()) maybe_slow(op, fd_under_dir(fd)); \
    else if (dir_len > 0) refresh();                \
  } while (0)

#define PATH_CALL(from_fd, from, to_fd, to)                                                  \
  do {                                                                                       \
    if (!real_write) resolve();                                                                \
    if (watching()) maybe_slow(OP_RENAME, path_under_dir(from_fd, from) || path_under_dir(to_fd, to)); \
    else if (dir_len > 0) refresh();                                                         \
  } while (0)

/* Looked up before first use too: another library's constructor may write before ours runs. */
static void resolve(void) {
  real_write = dlsym(RTLD_NEXT, "write");
  real_pwrite = dlsym(RTLD_NEXT, "pwrite");
  real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
  real_writev = dlsym(RTLD_NEXT, "writev");
  real_pwritev = dlsym(RTLD_NEXT, "pwritev");
  real_pwritev64 = dlsym(RTLD_NEXT, "pwritev64");
  real_pwritev2 = dlsym(RTLD_NEXT, "pwritev2");
  real_fsync = dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
  real_rename = dlsym(RTLD_NEXT, "rename");
  real_renameat = dlsym(RTLD_NEXT, "renameat");
  real_renameat2 = dlsym(RTLD_NEXT, "renameat2");
}

__attribute__((constructor)) static void slowfs_init(void) {
  resolve();
  const char *d = getenv("SLOWFS_DIR");
  ctl_path = getenv("SLOWFS_CTL");
  stats_path = getenv("SLOWFS_STATS");
  if (!d || !realpath(d, dir)) return; /* inactive: every wrapper is a plain pass-through */
  dir_len = strlen(dir);
  while (dir_len > 1 && dir[dir_len - 1] == '/') dir[--dir_len] = '\0';
  cache = calloc(FD_CACHE, sizeof *cache);
  refresh();
}

/* Flush counts not yet written; a process that never touched the tree leaves no file. */
__attribute__((destructor)) static void slowfs_fini(void) { write_stats(); }

ssize_t write(int fd, const void *buf, size_t n) {
  FD_CALL(OP_WRITE, fd);
  return real_write(fd, buf, n);
}
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  FD_CALL(OP_PWRITE, fd);
  return real_pwrite(fd, buf, n, off);
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
  FD_CALL(OP_PWRITE, fd);
  return real_pwrite64(fd, buf, n, off);
}
ssize_t writev(int fd, const struct iovec *iov, int cnt) {
  FD_CALL(OP_WRITEV, fd);
  return real_writev(fd, iov, cnt);
}
ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) {
  FD_CALL(OP_PWRITEV, fd);
  return real_pwritev(fd, iov, cnt, off);
}
ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off) {
  FD_CALL(OP_PWRITEV, fd);
  return real_pwritev64(fd, iov, cnt, off);
}
ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags) {
  FD_CALL(OP_PWRITEV, fd);
  return real_pwritev2(fd, iov, cnt, off, flags);
}
int fsync(int fd) {
  FD_CALL(OP_FSYNC, fd);
  return real_fsync(fd);
}
int fdatasync(int fd) {
  FD_CALL(OP_FDATASYNC, fd);
  return real_fdatasync(fd);
}
int rename(const char *from, const char *to) {
  PATH_CALL(AT_FDCWD, from, AT_FDCWD, to);
  return real_rename(from, to);
}
int renameat(int fromfd, const char *from, int tofd, const char *to) {
  PATH_CALL(fromfd, from, tofd, to);
  return real_renameat(fromfd, from, tofd, to);
}
int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned int flags) {
  PATH_CALL(fromfd, from, tofd, to);
  return real_renameat2(fromfd, from, tofd, to, flags);
}
