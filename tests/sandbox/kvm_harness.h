// kvm_harness.h — what the KVM integration tests share: make a qcow2
// image with qemu-img, pre-probe it like the host does, run a guest blob
// through sandbox_run(), and remember the file's bytes so each test can
// assert that the image was not modified.
#ifndef INSTAR_TESTS_SANDBOX_KVM_HARNESS_H
#define INSTAR_TESTS_SANDBOX_KVM_HARNESS_H

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/sandbox.h"
#include "src/amend/amend_request.h"

namespace sandbox_test {

struct Image {
  std::string path;
  std::vector<uint8_t> bytes;     // whole file at creation
  std::vector<uint8_t> preprobe;  // first cluster
  uint32_t cluster_size = 0;
};

// qemu-img create -f qcow2 -o <opts> <path> <size>. Fails the test on error.
// "@BASE@" in opts is replaced by a freshly made base image's path.
bool MakeQcow2(const std::string &opts, const std::string &size, Image *img);

// Number of open fds of this process (to catch leaks).
int OpenFdCount();

struct RunResult {
  sandbox_err err = SANDBOX_ERR_COUNT_;
  sandbox_outcome out{};
  std::vector<uint8_t> staged;
  bool file_unchanged = false;
};

// The config the CLI would give sandbox_run() for `img` opened as `fd`:
// its size, cluster size and pre-probe, `req`, and walk memory when the
// request walks the tables (amend_needs_scan()).
sandbox_config ConfigFor(const Image &img, int fd, const sandbox_guest &guest,
                         amend_request req);

// Run `guest` on `img` with `req`. preprobe_override, if non-empty,
// replaces the pre-probe bytes passed to the sandbox.
RunResult RunGuest(const Image &img, const sandbox_guest &guest,
                   amend_request req, uint64_t budget_ns = 0,
                   uint32_t max_exits = 0,
                   const std::vector<uint8_t> &preprobe_override = {});

const char *SandboxErrName(sandbox_err e);

}  // namespace sandbox_test

#endif
