// test_util.cc — see test_util.h.
#include "tests/sandbox/test_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

namespace sandbox_test {

std::string TempPath(const std::string &stem) {
  static std::atomic<int> counter{0};
  const char *dir = getenv("TEST_TMPDIR");
  std::string base = dir != nullptr ? dir : "/tmp";
  return base + "/" + stem + "." + std::to_string(getpid()) + "." +
         std::to_string(counter++);
}

bool WriteFile(const std::string &path, const std::vector<uint8_t> &bytes) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      close(fd);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return close(fd) == 0;
}

std::vector<uint8_t> ReadFile(const std::string &path, bool *ok) {
  std::vector<uint8_t> out;
  if (ok != nullptr) *ok = false;
  FILE *f = fopen(path.c_str(), "rb");
  if (f == nullptr) return out;
  uint8_t buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.insert(out.end(), buf, buf + n);
  bool err = ferror(f) != 0;
  (void)fclose(f);  // read-only: the read was checked above
  if (ok != nullptr) *ok = !err;
  return out;
}

int Run(const std::string &cmd, std::string *out) {
  // NOLINTNEXTLINE(cert-env33-c): runs the test's own qemu-img/qemu-io command lines, on purpose
  FILE *p = popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  std::string s;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) s.append(buf, n);
  int st = pclose(p);
  if (out != nullptr) *out = s;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

uint32_t Qcow2ClusterSize(const std::vector<uint8_t> &file) {
  if (file.size() < 24) return 0;
  uint32_t bits = (uint32_t{file[20]} << 24) | (uint32_t{file[21]} << 16) |
                  (uint32_t{file[22]} << 8) | uint32_t{file[23]};
  if (bits < 9 || bits > 21) return 0;
  return 1u << bits;
}

}  // namespace sandbox_test
