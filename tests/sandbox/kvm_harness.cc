// kvm_harness.cc — see kvm_harness.h.
#include "tests/sandbox/kvm_harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "gtest/gtest.h"
#include "src/amend/amend_plan.h"
#include "src/image/amend_guest.h"
#include "tests/sandbox/test_util.h"

namespace sandbox_test {

bool MakeQcow2(const std::string &opts_in, const std::string &size, Image *img) {
  img->path = TempPath("img") + ".qcow2";
  std::string opts = opts_in;
  std::string out;
  size_t at = opts.find("@BASE@");
  if (at != std::string::npos) {
    std::string base = TempPath("base") + ".qcow2";
    int brc = Run("qemu-img create -q -f qcow2 '" + base + "' " + size + " 2>&1", &out);
    EXPECT_EQ(brc, 0) << out;
    if (brc != 0) return false;
    opts.replace(at, 6, base);
  }
  int rc = Run("qemu-img create -q -f qcow2 -o " + opts + " '" + img->path + "' " + size + " 2>&1",
               &out);
  EXPECT_EQ(rc, 0) << out;
  if (rc != 0) return false;
  bool ok = false;
  img->bytes = ReadFile(img->path, &ok);
  EXPECT_TRUE(ok);
  img->cluster_size = Qcow2ClusterSize(img->bytes);
  EXPECT_NE(img->cluster_size, 0u);
  EXPECT_GE(img->bytes.size(), img->cluster_size);
  if (!ok || img->cluster_size == 0 || img->bytes.size() < img->cluster_size) return false;
  img->preprobe.assign(img->bytes.begin(), img->bytes.begin() + img->cluster_size);
  return true;
}

int OpenFdCount() {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (readdir(d) != nullptr) n++;
  closedir(d);
  return n;
}

sandbox_config ConfigFor(const Image &img, int fd, const sandbox_guest &guest,
                         amend_request req) {
  sandbox_config cfg{};
  cfg.image_fd = fd;
  cfg.disk_bytes = img.bytes.size();
  cfg.cluster_size = img.cluster_size;
  cfg.preprobe = img.preprobe.data();
  cfg.request = amend_guest_request(req);
  cfg.guest = guest;
  cfg.walk_tables = amend_needs_scan(cfg.preprobe, img.cluster_size, &req);
  return cfg;
}

RunResult RunGuest(const Image &img, const sandbox_guest &guest,
                   amend_request req, uint64_t budget_ns, uint32_t max_exits,
                   const std::vector<uint8_t> &preprobe_override) {
  RunResult r;
  int fd = open(img.path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  if (fd < 0) return r;
  r.staged.assign(img.cluster_size, 0xcc);
  sandbox_config cfg = ConfigFor(img, fd, guest, req);
  if (!preprobe_override.empty()) {
    cfg.preprobe = preprobe_override.data();
    cfg.walk_tables = amend_needs_scan(cfg.preprobe, img.cluster_size, &req);
  }
  cfg.budget_ns = budget_ns;
  cfg.max_exits = max_exits;
  r.out.staged = r.staged.data();
  r.err = sandbox_run(&cfg, &r.out);
  close(fd);
  r.file_unchanged = ReadFile(img.path) == img.bytes;
  return r;
}

const char *SandboxErrName(sandbox_err e) {
  switch (e) {
    case SANDBOX_OK: return "OK";
    case SANDBOX_ERR_CONFIG: return "CONFIG";
    case SANDBOX_ERR_KVM_UNAVAILABLE: return "KVM_UNAVAILABLE";
    case SANDBOX_ERR_KVM_PERMISSION: return "KVM_PERMISSION";
    case SANDBOX_ERR_KVM_API: return "KVM_API";
    case SANDBOX_ERR_VM_SETUP: return "VM_SETUP";
    case SANDBOX_ERR_GUEST_TIMEOUT: return "GUEST_TIMEOUT";
    case SANDBOX_ERR_GUEST_EXIT_BUDGET: return "GUEST_EXIT_BUDGET";
    case SANDBOX_ERR_GUEST_SHUTDOWN: return "GUEST_SHUTDOWN";
    case SANDBOX_ERR_GUEST_HALTED: return "GUEST_HALTED";
    case SANDBOX_ERR_GUEST_ENTRY_FAILED: return "GUEST_ENTRY_FAILED";
    case SANDBOX_ERR_GUEST_INTERNAL: return "GUEST_INTERNAL";
    case SANDBOX_ERR_UNEXPECTED_EXIT: return "UNEXPECTED_EXIT";
    case SANDBOX_ERR_BAD_DOORBELL: return "BAD_DOORBELL";
    case SANDBOX_ERR_BAD_PORT_IO: return "BAD_PORT_IO";
    case SANDBOX_ERR_BAD_MMIO: return "BAD_MMIO";
    case SANDBOX_ERR_DEVICE_PROTOCOL: return "DEVICE_PROTOCOL";
    case SANDBOX_ERR_BAD_WRITE: return "BAD_WRITE";
    case SANDBOX_ERR_HEADER_CHANGED: return "HEADER_CHANGED";
    case SANDBOX_ERR_SYSTEM_AREA: return "SYSTEM_AREA";
    case SANDBOX_ERR_BAD_REPORT: return "BAD_REPORT";
    case SANDBOX_ERR_REPORT_REFUSED: return "REPORT_REFUSED";
    case SANDBOX_ERR_READ_ONLY_WRITE: return "READ_ONLY_WRITE";
    case SANDBOX_ERR_COUNT_: break;
  }
  return "?";
}

}  // namespace sandbox_test
