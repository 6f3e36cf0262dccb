// sandbox_kvm_test.cc — the real, embedded guest.bin run in a real KVM
// VM against real qcow2 images made by qemu-img. Needs /dev/kvm: if it is
// missing the tests FAIL (they are never skipped). The guest's result
// and staged cluster must match what the shared planner computes on the
// host for the same bytes, and the image file must be unchanged (the
// sandbox never writes it; committing is someone else's job).
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "abi/guest_abi.h"
#include "gtest/gtest.h"
#include "guest/guest_embedded.h"
#include "sandbox/sandbox.h"
#include "src/amend/amend_plan.h"
#include "src/image/amend_guest.h"
#include "src/qcow2/qcow2_header.h"
#include "tests/sandbox/kvm_harness.h"
#include "tests/sandbox/test_util.h"
#include "tests/tools/table_reader.h"

namespace {

using sandbox_test::Image;
using sandbox_test::MakeQcow2;
using sandbox_test::RunGuest;
using sandbox_test::RunResult;
using sandbox_test::SandboxErrName;

// Budget for the correctness tests; the shipped default (2 s) is checked
// separately so a slow guest shows up as its own failure.
constexpr uint64_t kCorrectnessBudgetNs = 120000000000ull;

const sandbox_guest kAmend = SANDBOX_EMBEDDED_GUEST(instar_guest_bin);
const uint8_t *Blob() { return kAmend.image; }
size_t BlobLen() { return kAmend.len; }

TEST(KvmEnvironment, DevKvmIsUsable) {
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0) << "/dev/kvm is required for these tests (not skipped): "
                   << strerror(errno);
  close(fd);
}

TEST(EmbeddedGuest, FitsTheImageWindow) {
  EXPECT_GT(BlobLen(), 64u);
  EXPECT_LE(BlobLen(), GUEST_IMAGE_MAX);
  // entry.S starts with xor %ebp, %ebp (no cli: the guest runs at CPL3).
  ASSERT_GE(BlobLen(), 2u);
  EXPECT_EQ(Blob()[0], 0x31);
  EXPECT_EQ(Blob()[1], 0xed);
  // Code, read-only data and data on their own pages.
  EXPECT_GT(kAmend.text_len, 0u);
  EXPECT_EQ(kAmend.text_len % 4096u, 0u);
  EXPECT_EQ(kAmend.ro_len % 4096u, 0u);
  EXPECT_LE(kAmend.text_len, kAmend.ro_len);
  EXPECT_LE(kAmend.ro_len, GUEST_IMAGE_MAX);
  // Page-aligned in .rodata (guest.bzl uses .balign 4096).
  EXPECT_EQ(reinterpret_cast<uintptr_t>(Blob()) % 4096u, 0u);
}

// Run guest.bin and check it against the host-side planner.
void ExpectMatchesPlanner(const Image &img, amend_request req, const RunResult &r) {
  ASSERT_TRUE(r.file_unchanged);
  ASSERT_EQ(r.err, SANDBOX_OK) << SandboxErrName(r.err) << " rip=0x" << std::hex
                                << r.out.guest_rip;
  const guest_result &g = r.out.result;
  ASSERT_TRUE(r.out.result_present);
  EXPECT_EQ(g.magic, GUEST_ABI_MAGIC);
  EXPECT_EQ(g.abi_version, GUEST_ABI_VERSION);
  EXPECT_EQ(g.io_error, 0u);
  EXPECT_FALSE(r.out.header_changed);
  EXPECT_FALSE(r.out.bad_write);
  // The header cluster is handed over in guest memory: only a table
  // walk reads the disk.
  if (!amend_needs_scan(img.preprobe.data(), img.preprobe.size(), &req))
    EXPECT_EQ(r.out.read_bytes, 0u);

  std::vector<uint8_t> next(img.cluster_size, 0);
  struct amend_plan plan {};
  // The host-side reference does the guest's table scan too (on the
  // in-memory copy of the image) when the request is a downgrade.
  amend_scan scan {};
  const amend_scan *scanned = nullptr;
  if (amend_needs_scan(img.preprobe.data(), img.preprobe.size(), &req)) {
    qcow2_header h;
    ASSERT_EQ(qcow2_parse(img.preprobe.data(), img.preprobe.size(), &h), QCOW2_OK);
    table_mem tm = {img.bytes.data(), img.bytes.size(), 0, 0};
    const qcow2_io io = {table_mem_read, &tm, TABLE_BATCH};
    std::vector<uint64_t> work(GUEST_WORK_BYTES / 8);
    ASSERT_EQ(amend_scan_tables(&h, amend_scan_reach(img.preprobe.data(), img.preprobe.size(), &req),
                                img.bytes.size(), &io,
                                reinterpret_cast<uint8_t *>(work.data()), GUEST_WORK_BYTES,
                                &scan),
              AMEND_CHANGED);
    scanned = &scan;
  }
  amend_status want = amend_plan_scanned(img.preprobe.data(), img.preprobe.size(), &req,
                                         scanned, next.data(), &plan);
  EXPECT_EQ(g.status, static_cast<uint32_t>(want));
  if (want == AMEND_CHANGED || want == AMEND_NOOP) {
    EXPECT_EQ(g.result_version, plan.result_version);
    EXPECT_EQ(g.result_lazy, plan.result_lazy ? 1u : 0u);
    EXPECT_EQ(g.n_patches, plan.n_patches);
    EXPECT_EQ(g.patch_bytes, plan.patch_bytes);
  }
  if (want == AMEND_CHANGED) {
    EXPECT_EQ(g.action, GUEST_ACTION_AMENDED);
    EXPECT_GT(g.sectors_written, 0u);
    EXPECT_EQ(r.staged, next) << "staged cluster differs from the planner's";
    // Exactly the sectors covering the patches were written.
    uint32_t expect_sectors = 0;
    std::vector<bool> cover(img.cluster_size / 512, false);
    for (uint32_t i = 0; i < plan.n_patches; i++)
      for (uint32_t s = plan.patches[i].offset / 512;
           s <= (plan.patches[i].offset + plan.patches[i].length - 1) / 512; s++)
        cover[s] = true;
    for (size_t s = 0; s < cover.size(); s++) {
      bool w = (r.out.written[s / 8] >> (s % 8)) & 1;
      EXPECT_EQ(w, static_cast<bool>(cover[s])) << "sector " << s;
      expect_sectors += cover[s] ? 1 : 0;
    }
    EXPECT_EQ(r.out.sectors_written, expect_sectors);
  } else {
    EXPECT_EQ(g.action, want == AMEND_NOOP ? GUEST_ACTION_NOOP : GUEST_ACTION_NONE);
    EXPECT_EQ(r.staged, img.preprobe);
    EXPECT_EQ(r.out.sectors_written, 0u);
    EXPECT_EQ(r.out.write_requests, 0u);
  }
}

// Apply the staged cluster to a copy of the image and ask qemu-img.
std::string QemuInfoOfStaged(const Image &img, const std::vector<uint8_t> &staged) {
  std::vector<uint8_t> copy = img.bytes;
  memcpy(copy.data(), staged.data(), staged.size());
  std::string p = sandbox_test::TempPath("applied") + ".qcow2";
  EXPECT_TRUE(sandbox_test::WriteFile(p, copy));
  std::string out, chk;
  EXPECT_EQ(sandbox_test::Run("qemu-img info --output=json '" + p + "' 2>&1", &out), 0) << out;
  EXPECT_EQ(sandbox_test::Run("qemu-img check '" + p + "' 2>&1", &chk), 0) << chk;
  unlink(p.c_str());
  return out;
}

struct Case {
  const char *name;
  const char *create_opts;
  amend_request req;
};

class AmendGuestTest : public ::testing::TestWithParam<Case> {};

TEST_P(AmendGuestTest, MatchesHostPlanner) {
  Image img;
  ASSERT_TRUE(MakeQcow2(GetParam().create_opts, "64M", &img));
  int fds = sandbox_test::OpenFdCount();
  // Correctness only: a generous budget. Speed is FinishesInDefaultBudget's.
  RunResult r = RunGuest(img, kAmend, GetParam().req, kCorrectnessBudgetNs);
  EXPECT_EQ(sandbox_test::OpenFdCount(), fds) << "fd leak";
  ExpectMatchesPlanner(img, GetParam().req, r);
  std::cout << "[ timing ] " << GetParam().name << ": sandbox_run " << r.out.elapsed_ns / 1000
            << " us (guest run " << r.out.run_ns / 1000 << " us, " << r.out.exits
            << " exits)\n";
  unlink(img.path.c_str());
}

const Case kCases[] = {
    {"upgrade_64k", "compat=0.10,cluster_size=65536", {AMEND_COMPAT_V3, AMEND_LAZY_KEEP}},
    {"upgrade_512", "compat=0.10,cluster_size=512", {AMEND_COMPAT_V3, AMEND_LAZY_KEEP}},
    {"upgrade_2m", "compat=0.10,cluster_size=2M", {AMEND_COMPAT_V3, AMEND_LAZY_KEEP}},
    {"upgrade_lazy", "compat=0.10", {AMEND_COMPAT_V3, AMEND_LAZY_ON}},
    {"downgrade", "compat=1.1", {AMEND_COMPAT_V2, AMEND_LAZY_KEEP}},
    {"downgrade_lazy", "compat=1.1,lazy_refcounts=on", {AMEND_COMPAT_V2, AMEND_LAZY_KEEP}},
    {"lazy_on", "compat=1.1", {AMEND_COMPAT_KEEP, AMEND_LAZY_ON}},
    {"lazy_off", "compat=1.1,lazy_refcounts=on", {AMEND_COMPAT_KEEP, AMEND_LAZY_OFF}},
    {"noop_v3", "compat=1.1", {AMEND_COMPAT_V3, AMEND_LAZY_KEEP}},
    {"noop_v2", "compat=0.10", {AMEND_COMPAT_V2, AMEND_LAZY_KEEP}},
    {"refuse_lazy_v2", "compat=0.10", {AMEND_COMPAT_KEEP, AMEND_LAZY_ON}},
    {"refuse_refcount", "compat=1.1,refcount_bits=8", {AMEND_COMPAT_V2, AMEND_LAZY_KEEP}},
    {"backing_upgrade", "compat=0.10,backing_file=@BASE@,backing_fmt=qcow2",
     {AMEND_COMPAT_V3, AMEND_LAZY_KEEP}},
};

INSTANTIATE_TEST_SUITE_P(Images, AmendGuestTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case> &i) {
                           return std::string(i.param.name);
                         });

// The shipped time budget must be enough for every cluster size,
// including on a host where the vCPU is emulated (PVM / software
// virtualisation, about 1 us per guest instruction).
class FinishesInDefaultBudget : public ::testing::TestWithParam<const char *> {};

TEST_P(FinishesInDefaultBudget, Upgrade) {
  Image img;
  ASSERT_TRUE(MakeQcow2(std::string("compat=0.10,cluster_size=") + GetParam(), "64M", &img));
  RunResult r = RunGuest(img, kAmend, {AMEND_COMPAT_V3, AMEND_LAZY_KEEP});
  EXPECT_EQ(r.err, SANDBOX_OK) << SandboxErrName(r.err) << " after " << r.out.run_ns / 1000
                               << " us, rip=0x" << std::hex << r.out.guest_rip;
  EXPECT_EQ(r.out.result.action, GUEST_ACTION_AMENDED);
  EXPECT_TRUE(r.file_unchanged);
  std::cout << "[ timing ] default budget, cluster " << GetParam() << ": sandbox_run "
            << r.out.elapsed_ns / 1000 << " us (guest run " << r.out.run_ns / 1000 << " us)\n";
  unlink(img.path.c_str());
}

INSTANTIATE_TEST_SUITE_P(ClusterSizes, FinishesInDefaultBudget,
                         ::testing::Values("512", "4096", "65536", "2M"),
                         [](const ::testing::TestParamInfo<const char *> &i) {
                           return std::string("cluster_") + i.param;
                         });

TEST(AmendGuest, UpgradeIsWhatQemuImgReads) {
  Image img;
  ASSERT_TRUE(MakeQcow2("compat=0.10", "64M", &img));
  amend_request req{AMEND_COMPAT_V3, AMEND_LAZY_ON};
  RunResult r = RunGuest(img, kAmend, req, kCorrectnessBudgetNs);
  ASSERT_EQ(r.err, SANDBOX_OK) << SandboxErrName(r.err);
  EXPECT_TRUE(r.file_unchanged);
  std::string info = QemuInfoOfStaged(img, r.staged);
  EXPECT_NE(info.find("\"compat\": \"1.1\""), std::string::npos) << info;
  EXPECT_NE(info.find("\"lazy-refcounts\": true"), std::string::npos) << info;
  unlink(img.path.c_str());
}

TEST(AmendGuest, DowngradeIsWhatQemuImgReads) {
  Image img;
  ASSERT_TRUE(MakeQcow2("compat=1.1,lazy_refcounts=on", "64M", &img));
  amend_request req{AMEND_COMPAT_V2, AMEND_LAZY_KEEP};
  RunResult r = RunGuest(img, kAmend, req, kCorrectnessBudgetNs);
  ASSERT_EQ(r.err, SANDBOX_OK) << SandboxErrName(r.err);
  EXPECT_TRUE(r.file_unchanged);
  std::string info = QemuInfoOfStaged(img, r.staged);
  EXPECT_NE(info.find("\"compat\": \"0.10\""), std::string::npos) << info;
  unlink(img.path.c_str());
}

TEST(AmendGuest, PlansOnThePreProbeItWasHanded) {
  Image img;
  ASSERT_TRUE(MakeQcow2("compat=0.10", "64M", &img));
  // The host's pre-probe says one thing, the file another (as if another
  // writer changed the header in between): the guest works on the copy
  // in its memory and never reads the file's header; the commit's
  // image_check_unchanged() is what notices the change.
  std::vector<uint8_t> pre = img.preprobe;
  pre[img.cluster_size - 1] ^= 0x40;
  RunResult r = RunGuest(img, kAmend, {AMEND_COMPAT_V3, AMEND_LAZY_KEEP},
                         kCorrectnessBudgetNs, 0, pre);
  ASSERT_EQ(r.err, SANDBOX_OK) << SandboxErrName(r.err);
  EXPECT_FALSE(r.out.header_changed);
  EXPECT_EQ(r.out.read_bytes, 0u);
  EXPECT_EQ(r.out.result.action, GUEST_ACTION_AMENDED);
  ASSERT_EQ(r.staged.size(), pre.size());
  EXPECT_EQ(r.staged[img.cluster_size - 1], pre[img.cluster_size - 1]);
  EXPECT_TRUE(r.file_unchanged);
  unlink(img.path.c_str());
}

TEST(AmendGuest, NotQcow2IsReportedByGuest) {
  // A raw file: the guest must report the planner's refusal, not crash.
  Image img;
  img.path = sandbox_test::TempPath("raw");
  img.bytes.assign(1u << 20, 0);
  img.cluster_size = 65536;
  ASSERT_TRUE(sandbox_test::WriteFile(img.path, img.bytes));
  img.preprobe.assign(img.bytes.begin(), img.bytes.begin() + img.cluster_size);
  amend_request req{AMEND_COMPAT_V3, AMEND_LAZY_KEEP};
  RunResult r = RunGuest(img, kAmend, req);
  ExpectMatchesPlanner(img, req, r);
  EXPECT_EQ(r.out.result.status, static_cast<uint32_t>(AMEND_ERR_NOT_QCOW2));
  unlink(img.path.c_str());
}

TEST(AmendGuest, DiskSmallerThanClusterIsRefused) {
  Image img;
  ASSERT_TRUE(MakeQcow2("compat=0.10", "64M", &img));
  // A disk of 4 KiB cannot hold the 64 KiB header cluster the host would
  // hand the guest: a configuration error, before any VM exists.
  int fd = open(img.path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::vector<uint8_t> staged(img.cluster_size);
  sandbox_config cfg = sandbox_test::ConfigFor(img, fd, kAmend, {AMEND_COMPAT_V3, AMEND_LAZY_KEEP});
  cfg.disk_bytes = 4096;
  sandbox_outcome out{};
  out.staged = staged.data();
  EXPECT_EQ(sandbox_run(&cfg, &out), SANDBOX_ERR_CONFIG);
  close(fd);
  EXPECT_FALSE(out.result_present);
  EXPECT_EQ(out.exits, 0u);
  cfg.disk_bytes = img.cluster_size;
  EXPECT_EQ(sandbox_run(&cfg, &out), SANDBOX_OK) << "a disk of exactly one cluster";
  EXPECT_EQ(sandbox_test::ReadFile(img.path), img.bytes);
  unlink(img.path.c_str());
}

TEST(AmendGuest, DowngradeWithoutWorkMemoryIsRefusedByTheGuest) {
  // A host that forgot walk_tables hands the guest no memory for the
  // table walk: the guest refuses (the host's validator accepts a scan
  // refusal of a downgrade), it does not overrun its scratch.
  Image img;
  ASSERT_TRUE(MakeQcow2("compat=1.1", "64M", &img));
  int fd = open(img.path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::vector<uint8_t> staged(img.cluster_size);
  sandbox_config cfg = sandbox_test::ConfigFor(img, fd, kAmend, {AMEND_COMPAT_V2, AMEND_LAZY_KEEP});
  ASSERT_TRUE(cfg.walk_tables);
  cfg.walk_tables = false;
  sandbox_outcome out{};
  out.staged = staged.data();
  EXPECT_EQ(sandbox_run(&cfg, &out), SANDBOX_OK);
  close(fd);
  ASSERT_TRUE(out.result_present);
  EXPECT_EQ(out.result.status, static_cast<uint32_t>(AMEND_ERR_SCRATCH));
  EXPECT_EQ(out.result.action, GUEST_ACTION_NONE);
  EXPECT_EQ(staged, img.preprobe);
  unlink(img.path.c_str());
}

TEST(AmendGuest, RepeatedRunsLeakNothing) {
  Image img;
  ASSERT_TRUE(MakeQcow2("compat=0.10", "64M", &img));
  int fds = sandbox_test::OpenFdCount();
  uint64_t total = 0, worst = 0;
  const int kRuns = 10;
  for (int i = 0; i < kRuns; i++) {
    // A no-op: measures the sandbox itself, not the planner.
    RunResult r = RunGuest(img, kAmend, {AMEND_COMPAT_V2, AMEND_LAZY_KEEP});
    ASSERT_EQ(r.err, SANDBOX_OK) << SandboxErrName(r.err);
    total += r.out.elapsed_ns;
    if (r.out.elapsed_ns > worst) worst = r.out.elapsed_ns;
  }
  EXPECT_EQ(sandbox_test::OpenFdCount(), fds);
  std::cout << "[ timing ] " << kRuns << " runs, mean " << total / kRuns / 1000 << " us, worst "
            << worst / 1000 << " us\n";
  unlink(img.path.c_str());
}

TEST(SandboxConfig, RefusesBadConfig) {
  std::vector<uint8_t> pre(65536), staged(65536);
  sandbox_config cfg{};
  cfg.image_fd = 0;
  cfg.disk_bytes = 65536;
  cfg.cluster_size = 65536;
  cfg.preprobe = pre.data();
  cfg.request = amend_guest_request({AMEND_COMPAT_V3, AMEND_LAZY_KEEP});
  cfg.guest = kAmend;
  sandbox_outcome out{};
  EXPECT_EQ(sandbox_run(&cfg, nullptr), SANDBOX_ERR_CONFIG);
  EXPECT_EQ(sandbox_run(nullptr, &out), SANDBOX_ERR_CONFIG);
  out.staged = nullptr;
  EXPECT_EQ(sandbox_run(&cfg, &out), SANDBOX_ERR_CONFIG);
  out.staged = staged.data();
  sandbox_config c = cfg;
  c.cluster_size = 1000;
  EXPECT_EQ(sandbox_run(&c, &out), SANDBOX_ERR_CONFIG);
  c = cfg;
  c.cluster_size = 256;
  EXPECT_EQ(sandbox_run(&c, &out), SANDBOX_ERR_CONFIG);
  c = cfg;
  c.cluster_size = 4u << 20;
  EXPECT_EQ(sandbox_run(&c, &out), SANDBOX_ERR_CONFIG);
  c = cfg;
  c.guest.len = GUEST_IMAGE_MAX + 1;
  EXPECT_EQ(sandbox_run(&c, &out), SANDBOX_ERR_CONFIG);
  c = cfg;
  c.guest.len = 0;
  EXPECT_EQ(sandbox_run(&c, &out), SANDBOX_ERR_CONFIG);
  c = cfg;
  c.guest.text_len = 0;  // no code page
  EXPECT_EQ(sandbox_run(&c, &out), SANDBOX_ERR_CONFIG);
  c = cfg;
  c.guest.text_len = 4097;  // not page-aligned
  EXPECT_EQ(sandbox_run(&c, &out), SANDBOX_ERR_CONFIG);
  c = cfg;
  c.guest.ro_len = c.guest.text_len - 4096;  // read-only data before the code's end
  EXPECT_EQ(sandbox_run(&c, &out), SANDBOX_ERR_CONFIG);
  c = cfg;
  c.image_fd = -1;
  EXPECT_EQ(sandbox_run(&c, &out), SANDBOX_ERR_CONFIG);
  c = cfg;
  c.preprobe = nullptr;
  EXPECT_EQ(sandbox_run(&c, &out), SANDBOX_ERR_CONFIG);
}

TEST(SandboxConfig, RamSize) {
  // 2 MiB low memory + two clusters (+ 32 MiB of walk memory), to 2 MiB.
  EXPECT_EQ(sandbox_ram_bytes(512, true), 36u << 20);
  EXPECT_EQ(sandbox_ram_bytes(65536, true), 36u << 20);
  EXPECT_EQ(sandbox_ram_bytes(1u << 20, true), 36u << 20);
  EXPECT_EQ(sandbox_ram_bytes(2u << 20, true), 38u << 20);
  EXPECT_EQ(sandbox_ram_bytes(512, false), 4u << 20);
  EXPECT_EQ(sandbox_ram_bytes(65536, false), 4u << 20);
  EXPECT_EQ(sandbox_ram_bytes(1u << 20, false), 4u << 20);
  EXPECT_EQ(sandbox_ram_bytes(2u << 20, false), 6u << 20);
  EXPECT_EQ(sandbox_ram_bytes(1000, true), 0u);
  EXPECT_EQ(sandbox_ram_bytes(0, false), 0u);
}

}  // namespace
