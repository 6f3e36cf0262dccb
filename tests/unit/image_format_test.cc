// image_format_test.cc — format detection by magic bytes, including the
// VHD footer-at-end form and the VMDK text descriptor.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "src/qcow2/image_format.h"

namespace {

std::vector<uint8_t> Head(const std::string& magic, size_t at = 0) {
  std::vector<uint8_t> b(512, 0);
  memcpy(b.data() + at, magic.data(), magic.size());
  return b;
}

image_format Detect(const std::vector<uint8_t>& head) {
  return image_format_detect(head.data(), head.size(), nullptr, 0);
}

TEST(ImageFormat, Magics) {
  EXPECT_EQ(IMAGE_FORMAT_QCOW2, Detect(Head(std::string("QFI\xfb\0\0\0\3", 8))));
  EXPECT_EQ(IMAGE_FORMAT_QCOW2, Detect(Head(std::string("QFI\xfb\0\0\0\2", 8))));
  EXPECT_EQ(IMAGE_FORMAT_QCOW1, Detect(Head(std::string("QFI\xfb\0\0\0\1", 8))));
  EXPECT_EQ(IMAGE_FORMAT_QED, Detect(Head(std::string("QED\0", 4))));
  EXPECT_EQ(IMAGE_FORMAT_VMDK, Detect(Head("KDMV")));
  EXPECT_EQ(IMAGE_FORMAT_VMDK, Detect(Head("# Disk DescriptorFile\nversion=1\n")));
  EXPECT_EQ(IMAGE_FORMAT_VPC, Detect(Head("conectix")));
  EXPECT_EQ(IMAGE_FORMAT_VHDX, Detect(Head("vhdxfile")));
  EXPECT_EQ(IMAGE_FORMAT_VDI, Detect(Head(std::string("\x7f\x10\xda\xbe", 4), 64)));
  EXPECT_EQ(IMAGE_FORMAT_RAW, Detect(Head("hello")));
}

TEST(ImageFormat, VpcFooterAtEnd) {
  auto head = Head("");
  auto tail = Head("conectix");
  EXPECT_EQ(IMAGE_FORMAT_VPC,
            image_format_detect(head.data(), head.size(), tail.data(), tail.size()));
  EXPECT_EQ(IMAGE_FORMAT_RAW,
            image_format_detect(head.data(), head.size(), tail.data(), 100));
}

TEST(ImageFormat, ShortAndEmptyInputsAreRaw) {
  uint8_t b[3] = {'Q', 'F', 'I'};
  EXPECT_EQ(IMAGE_FORMAT_RAW, image_format_detect(b, 3, nullptr, 0));
  EXPECT_EQ(IMAGE_FORMAT_RAW, image_format_detect(b, 0, nullptr, 0));
  EXPECT_EQ(IMAGE_FORMAT_RAW, image_format_detect(nullptr, 0, nullptr, 0));
}

TEST(ImageFormat, Names) {
  EXPECT_STREQ("qcow2", image_format_name(IMAGE_FORMAT_QCOW2));
  EXPECT_STREQ("raw", image_format_name(IMAGE_FORMAT_RAW));
  EXPECT_STREQ("vmdk", image_format_name(IMAGE_FORMAT_VMDK));
  EXPECT_STREQ("vpc", image_format_name(IMAGE_FORMAT_VPC));
  EXPECT_STREQ("vhdx", image_format_name(IMAGE_FORMAT_VHDX));
  EXPECT_STREQ("qcow", image_format_name(IMAGE_FORMAT_QCOW1));
  EXPECT_STREQ("qed", image_format_name(IMAGE_FORMAT_QED));
  EXPECT_STREQ("vdi", image_format_name(IMAGE_FORMAT_VDI));
}

}  // namespace
