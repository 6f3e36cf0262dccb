// test_util.h — small helpers shared by the sandbox tests: temporary
// files under TEST_TMPDIR, whole-file reads, running qemu-img.
#ifndef INSTAR_TESTS_SANDBOX_TEST_UTIL_H
#define INSTAR_TESTS_SANDBOX_TEST_UTIL_H

#include <cstdint>
#include <string>
#include <vector>

namespace sandbox_test {

// A fresh path under $TEST_TMPDIR (or /tmp) with `stem` in its name.
std::string TempPath(const std::string &stem);

// Write `bytes` to `path` (truncating). Returns false on error.
bool WriteFile(const std::string &path, const std::vector<uint8_t> &bytes);

// The whole file, or an empty vector on error (errors set *ok=false).
std::vector<uint8_t> ReadFile(const std::string &path, bool *ok = nullptr);

// Run a shell command; returns its exit status and stdout.
int Run(const std::string &cmd, std::string *out = nullptr);

// cluster_size from a qcow2 header (bytes 20..23, big-endian bits).
uint32_t Qcow2ClusterSize(const std::vector<uint8_t> &file);

}  // namespace sandbox_test

#endif
