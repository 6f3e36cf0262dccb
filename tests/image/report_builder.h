// report_builder.h — writes inspection reports (abi/report_abi.h) record
// by record, as a guest would, for the tests of the host's parser and
// printers. It writes what it is told, valid or not: each test decides.
#ifndef INSTAR_TESTS_REPORT_BUILDER_H
#define INSTAR_TESTS_REPORT_BUILDER_H

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "abi/report_abi.h"

class ReportBuilder {
 public:
  // Appends the fixed part `rec` (its header filled in here) followed by
  // `strings`, padded to REPORT_ALIGN. Returns the record's offset.
  template <typename T>
  size_t Add(uint32_t type, T rec, const std::string& strings = "") {
    size_t len = sizeof(T) + strings.size();
    len = (len + REPORT_ALIGN - 1) / REPORT_ALIGN * REPORT_ALIGN;
    rec.hdr.type = type;
    rec.hdr.len = static_cast<uint32_t>(len);
    size_t at = buf_.size();
    buf_.resize(at + len, 0);
    std::memcpy(buf_.data() + at, &rec, sizeof(T));
    if (!strings.empty())
      std::memcpy(buf_.data() + at + sizeof(T), strings.data(), strings.size());
    if (type != REPORT_T_END) records_++;
    if (type == REPORT_T_FINDING) findings_++;
    return at;
  }

  size_t Message(uint32_t type, uint32_t code, std::vector<uint64_t> args,
                 const std::string& text = "") {
    report_message m{};
    m.code = code;
    m.n_args = static_cast<uint32_t>(args.size());
    for (size_t i = 0; i < args.size() && i < 3; i++) m.arg[i] = args[i];
    m.str_len = static_cast<uint32_t>(text.size());
    return Add(type, m, text);
  }

  static report_image Image(uint32_t snapshots = 0, uint32_t bitmaps = 0) {
    report_image im{};
    im.version = 3;
    im.cluster_bits = 16;
    im.size = 64ull << 20;
    im.refcount_order = 4;
    im.nb_snapshots = snapshots;
    im.nb_bitmaps = bitmaps;
    if (bitmaps != 0) im.flags = REPORT_IMAGE_BITMAPS_LISTED;
    return im;
  }

  size_t Name(uint32_t kind, const std::string& bytes) {
    report_name n{};
    n.kind = kind;
    n.len = static_cast<uint32_t>(bytes.size());
    return Add(REPORT_T_NAME, n, bytes);
  }

  size_t Snapshot(const std::string& id, const std::string& name) {
    report_snapshot s{};
    s.icount = UINT64_MAX;
    s.id_len = static_cast<uint32_t>(id.size());
    s.name_len = static_cast<uint32_t>(name.size());
    return Add(REPORT_T_SNAPSHOT, s, id + name);
  }

  size_t Bitmap(const std::string& name, uint32_t granularity_bits = 16) {
    report_bitmap b{};
    b.granularity_bits = granularity_bits;
    b.name_len = static_cast<uint32_t>(name.size());
    return Add(REPORT_T_BITMAP, b, name);
  }

  size_t Finding(uint32_t code, std::vector<uint64_t> args,
                 const std::string& id = "", const std::string& name = "") {
    report_finding f{};
    f.code = code;
    f.n_args = static_cast<uint32_t>(args.size());
    for (size_t i = 0; i < args.size() && i < 4; i++) f.arg[i] = args[i];
    f.id_len = static_cast<uint32_t>(id.size());
    f.name_len = static_cast<uint32_t>(name.size());
    return Add(REPORT_T_FINDING, f, id + name);
  }

  size_t Check(const report_check& k) { return Add(REPORT_T_CHECK, k); }

  // The END record counting what came before it (or what it is told).
  size_t End() { return End(records_, findings_); }
  size_t End(uint64_t records, uint64_t findings) {
    report_end e{};
    e.records = records;
    e.findings = findings;
    return Add(REPORT_T_END, e);
  }

  std::vector<uint8_t>& bytes() { return buf_; }
  const uint8_t* data() const { return buf_.data(); }
  size_t size() const { return buf_.size(); }

 private:
  std::vector<uint8_t> buf_;
  uint64_t records_ = 0;
  uint64_t findings_ = 0;
};

#endif
