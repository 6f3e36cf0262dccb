// child.h - runs a test body in a forked child of the test binary, with the
// child's stdout (fd 1) on a pipe the parent reads, so a child that has
// locked itself down can still report through the one descriptor the policy
// lets it write. Trusts the kernel's fork/wait; everything the child says is
// just text checked by the parent.
#ifndef INSTAR_TESTS_SECCOMP_CHILD_H
#define INSTAR_TESTS_SECCOMP_CHILD_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <sstream>
#include <string>

struct ChildResult {
  int status = 0;
  std::string out;

  bool ExitedWith(int code) const {
    return WIFEXITED(status) && WEXITSTATUS(status) == code;
  }
  bool KilledBy(int sig) const { return WIFSIGNALED(status) && WTERMSIG(status) == sig; }
  std::string Describe() const {
    std::ostringstream s;
    if (WIFEXITED(status))
      s << "exited with " << WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
      s << "killed by signal " << WTERMSIG(status) << " (" << strsignal(WTERMSIG(status)) << ")";
    else
      s << "status " << status;
    s << "; output: \"" << out << "\"";
    return s.str();
  }
};

// Writes s to fd 1 with the bare syscall (no stdio: its buffering would
// call fstat and its buffer would be lost by _exit).
inline void Say(const char* s) {
  size_t n = std::strlen(s);
  while (n > 0) {
    ssize_t w = write(1, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

// Runs body() in a forked child; the child _exit()s with body's return
// value (so no atexit handler, no sanitizer leak check, runs after lockdown).
// The parent gives the child timeout_s seconds, then kills it with SIGKILL.
inline ChildResult RunInChild(const std::function<int()>& body, int timeout_s = 20) {
  ChildResult r;
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    r.status = -1;
    r.out = "pipe2 failed";
    return r;
  }
  // So the child does not write the parent's buffered output again; a
  // flush that fails loses nothing the test checks.
  (void)fflush(stdout);
  (void)fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    if (dup2(p[1], 1) != 1) _exit(120);
    close(p[1]);
    _exit(body());
  }
  close(p[1]);
  if (pid < 0) {
    close(p[0]);
    r.status = -1;
    r.out = "fork failed";
    return r;
  }
  // The pipe reaches EOF when the child dies (nobody else holds its write end).
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  char buf[4096];
  bool killed = false;
  for (;;) {
    ssize_t n = read(p[0], buf, sizeof buf);
    if (n > 0) {
      r.out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) break;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!killed && now.tv_sec - start.tv_sec > timeout_s) {
      kill(pid, SIGKILL);
      killed = true;
      r.out += "[timed out]";
    }
    usleep(1000);
  }
  close(p[0]);
  while (waitpid(pid, &r.status, 0) < 0) {
    if (errno != EINTR) {
      r.status = -1;
      break;
    }
  }
  return r;
}

#endif
