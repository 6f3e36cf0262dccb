// report_forge.cc — test tool: appends to a qcow2 image the report and
// control sector the lying guest replay_report
// (tests/sandbox/bad_guests/replay_report.c) hands the host, for one
// named scenario: an honest report of the image's header, or one lie.
//
// Usage: report_forge SCENARIO IMAGE    (report_forge --list: the names)
// The image's own bytes are untouched; the file grows by whole sectors
// (padded to 512 first), so the header the host reads is the image's.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "abi/guest_abi.h"
#include "src/qcow2/qcow2_check.h"
#include "src/qcow2/qcow2_open.h"
#include "tests/image/report_builder.h"

namespace {

// What the guest is told (replay_report.c's struct ctl).
struct Ctl {
  uint64_t magic = 0x594c504552534e49ull;
  uint32_t blob_bytes = 0;
  uint32_t report_len = 0;
  uint32_t flushes = 0;
  uint32_t flush_len = 0;
  uint32_t status = GUEST_INSPECT_OK;
  uint32_t write_disk = 0;
};

struct Forged {
  ReportBuilder report;
  Ctl ctl;
  bool claim_set = false;   // ctl.report_len chosen by the scenario
};

// The image record an honest guest would write for this header.
report_image HonestImage(const qcow2_fields& f) {
  report_image im{};
  im.version = f.version;
  im.cluster_bits = f.cluster_bits;
  im.size = f.size;
  im.incompat = f.incompat;
  im.compat = f.compat;
  im.autoclear = f.autoclear;
  im.refcount_order = f.refcount_order;
  im.compression_type = f.compression_type;
  im.crypt_method = f.crypt_method;
  return im;
}

void HonestInfo(Forged& g, const qcow2_fields& f) {
  g.report.Add(REPORT_T_IMAGE, HonestImage(f));
  g.report.End();
}

void HonestCheck(Forged& g, const qcow2_fields&) {
  report_check k{};
  g.report.Check(k);
  g.report.End();
}

using Scenario = std::function<void(Forged&, const qcow2_fields&)>;

const std::map<std::string, Scenario>& Scenarios() {
  static const std::map<std::string, Scenario> s = {
      {"honest_info", HonestInfo},
      {"honest_check", HonestCheck},
      {"size_lie",
       [](Forged& g, const qcow2_fields& f) {
         report_image im = HonestImage(f);
         im.size += 512;
         g.report.Add(REPORT_T_IMAGE, im);
         g.report.End();
       }},
      {"version_lie",
       [](Forged& g, const qcow2_fields& f) {
         report_image im = HonestImage(f);
         im.version = f.version == 3 ? 2 : 3;
         g.report.Add(REPORT_T_IMAGE, im);
         g.report.End();
       }},
      {"snapshot_invented",
       [](Forged& g, const qcow2_fields& f) {
         report_image im = HonestImage(f);
         im.nb_snapshots = f.nb_snapshots + 1;
         g.report.Add(REPORT_T_IMAGE, im);
         for (uint32_t i = 0; i < im.nb_snapshots; i++)
           g.report.Snapshot(std::to_string(i + 1), "invented");
         g.report.End();
       }},
      {"field_range",
       [](Forged& g, const qcow2_fields& f) {
         report_image im = HonestImage(f);
         im.cluster_bits = 30;
         g.report.Add(REPORT_T_IMAGE, im);
         g.report.End();
       }},
      {"no_end",
       [](Forged& g, const qcow2_fields& f) {
         g.report.Add(REPORT_T_IMAGE, HonestImage(f));
       }},
      {"trailing",
       [](Forged& g, const qcow2_fields& f) {
         HonestInfo(g, f);
         g.report.bytes().resize(g.report.size() + 8, 0);
       }},
      {"bad_length",
       [](Forged& g, const qcow2_fields& f) {
         HonestInfo(g, f);
         report_hdr h;
         std::memcpy(&h, g.report.data(), sizeof(h));
         h.len += 4;
         std::memcpy(g.report.bytes().data(), &h, sizeof(h));
       }},
      {"out_of_order",
       [](Forged& g, const qcow2_fields& f) {
         g.report.Name(REPORT_NAME_BACKING_FILE, "base.qcow2");
         g.report.Add(REPORT_T_IMAGE, HonestImage(f));
         g.report.End();
       }},
      {"end_miscounts",
       [](Forged& g, const qcow2_fields& f) {
         g.report.Add(REPORT_T_IMAGE, HonestImage(f));
         g.report.End(5, 0);
       }},
      {"claims_less",
       [](Forged& g, const qcow2_fields& f) {
         HonestInfo(g, f);
         g.ctl.report_len = static_cast<uint32_t>(g.report.size() - 8);
         g.claim_set = true;
       }},
      {"claims_past_region",
       [](Forged& g, const qcow2_fields& f) {
         HonestInfo(g, f);
         g.ctl.report_len = GUEST_REPORT_BYTES + 8;
         g.claim_set = true;
       }},
      {"replayed_flush",
       [](Forged& g, const qcow2_fields& f) {
         HonestInfo(g, f);
         g.ctl.flushes = 1;
         g.ctl.flush_len = static_cast<uint32_t>(g.report.size());
       }},
      {"flood",
       [](Forged& g, const qcow2_fields& f) {
         HonestInfo(g, f);
         g.ctl.flushes = 1000;   // 1000 x 2 MiB: past the host's ceiling
         g.ctl.flush_len = GUEST_REPORT_BYTES;
       }},
      {"status_io",
       [](Forged& g, const qcow2_fields& f) {
         HonestInfo(g, f);
         g.ctl.status = GUEST_INSPECT_ERR_IO;
       }},
      {"status_unknown",
       [](Forged& g, const qcow2_fields& f) {
         HonestInfo(g, f);
         g.ctl.status = 77;
       }},
      {"writes_disk",
       [](Forged& g, const qcow2_fields& f) {
         HonestInfo(g, f);
         g.ctl.write_disk = 1;
       }},
      {"check_totals_lie",
       [](Forged& g, const qcow2_fields&) {
         g.report.Finding(QCOW2_F_LEAK, {6, 1, 0});
         report_check k{};   // leaks 0: hides the finding it reported
         g.report.Check(k);
         g.report.End();
       }},
      {"many_findings",   // honest: 30000 leaks, 1.3 MB on stderr
       [](Forged& g, const qcow2_fields&) {
         report_check k{};
         for (uint64_t i = 0; i < 30000; i++)
           g.report.Finding(QCOW2_F_LEAK, {1000 + i, 1, 0});
         k.leaks = 30000;
         g.report.Check(k);
         g.report.End();
       }},
      {"check_of_info",
       [](Forged& g, const qcow2_fields& f) {   // an info report to check
         HonestInfo(g, f);
       }},
  };
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
    for (const auto& [name, fn] : Scenarios()) std::cout << name << "\n";
    return 0;
  }
  if (argc != 3) {
    std::cerr << "usage: report_forge SCENARIO IMAGE | --list\n";
    return 2;
  }
  auto it = Scenarios().find(argv[1]);
  if (it == Scenarios().end()) {
    std::cerr << "report_forge: no scenario '" << argv[1] << "'\n";
    return 2;
  }
  std::fstream file(argv[2], std::ios::in | std::ios::out | std::ios::binary);
  std::vector<uint8_t> hdr(112, 0);
  if (!file.read(reinterpret_cast<char*>(hdr.data()), 112)) {
    std::cerr << "report_forge: cannot read the header of " << argv[2] << "\n";
    return 1;
  }
  qcow2_fields f;
  qcow2_fields_read(hdr.data(), &f);

  Forged g;
  it->second(g, f);
  g.ctl.blob_bytes = static_cast<uint32_t>(g.report.size());
  if (!g.claim_set) g.ctl.report_len = g.ctl.blob_bytes;

  file.seekp(0, std::ios::end);
  uint64_t size = static_cast<uint64_t>(file.tellp());
  std::vector<char> tail((512 - size % 512) % 512, 0);
  std::vector<char> blob(g.report.data(), g.report.data() + g.report.size());
  blob.resize((blob.size() + 511) / 512 * 512, 0);
  tail.insert(tail.end(), blob.begin(), blob.end());
  std::vector<char> ctl(512, 0);
  std::memcpy(ctl.data(), &g.ctl, sizeof(g.ctl));
  tail.insert(tail.end(), ctl.begin(), ctl.end());
  if (!file.write(tail.data(), static_cast<std::streamsize>(tail.size())) ||
      !file.flush()) {
    std::cerr << "report_forge: cannot append to " << argv[2] << "\n";
    return 1;
  }
  return 0;
}
