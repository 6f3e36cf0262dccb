// image_file_test: image_check_unchanged(), the commit's last look at the
// file. The guest plans on the pre-probe the host hands it and never
// reads the file's header again, so this check is what stands between a
// writer that ignores the locks and a commit of a stale plan.
#include "src/image/image_file.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "tests/sandbox/test_util.h"

namespace {

class CheckUnchanged : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = sandbox_test::TempPath("unchanged");
    bytes_.assign(3 * 65536, 0);
    for (size_t i = 0; i < bytes_.size(); i++) bytes_[i] = static_cast<uint8_t>(i * 7);
    ASSERT_TRUE(sandbox_test::WriteFile(path_, bytes_));
    ASSERT_EQ(image_open(path_.c_str(), &img_), IMAGE_OK);
    ASSERT_EQ(image_read_cluster(&img_, 65536), IMAGE_OK);
    // A second descriptor, as a writer that ignores the locks would have.
    other_ = open(path_.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(other_, 0);
  }
  void TearDown() override {
    image_close(&img_);
    if (other_ >= 0) close(other_);
    unlink(path_.c_str());
  }
  std::string path_;
  std::vector<uint8_t> bytes_;
  image_file img_{};
  int other_ = -1;
};

TEST_F(CheckUnchanged, SameFileIsUnchanged) {
  EXPECT_EQ(image_check_unchanged(&img_), IMAGE_OK);
  // Bytes past the header cluster are not the commit's concern.
  uint8_t b = 0x55;
  ASSERT_EQ(pwrite(other_, &b, 1, 65536 + 3), 1);
  EXPECT_EQ(image_check_unchanged(&img_), IMAGE_OK);
}

TEST_F(CheckUnchanged, HeaderByteChanged) {
  for (off_t at : {off_t{0}, off_t{4095}, off_t{65535}}) {
    uint8_t b = static_cast<uint8_t>(bytes_[static_cast<size_t>(at)] ^ 0x01);
    ASSERT_EQ(pwrite(other_, &b, 1, at), 1);
    EXPECT_EQ(image_check_unchanged(&img_), IMAGE_ERR_CHANGED) << at;
    b ^= 0x01;
    ASSERT_EQ(pwrite(other_, &b, 1, at), 1);
    EXPECT_EQ(image_check_unchanged(&img_), IMAGE_OK) << at;
  }
}

TEST_F(CheckUnchanged, FileGrewOrShrank) {
  ASSERT_EQ(ftruncate(other_, static_cast<off_t>(bytes_.size() + 512)), 0);
  EXPECT_EQ(image_check_unchanged(&img_), IMAGE_ERR_CHANGED);
  ASSERT_EQ(ftruncate(other_, static_cast<off_t>(bytes_.size() - 512)), 0);
  EXPECT_EQ(image_check_unchanged(&img_), IMAGE_ERR_CHANGED);
  // Shorter than the header cluster: the re-read comes up short.
  ASSERT_EQ(ftruncate(other_, 4096), 0);
  EXPECT_EQ(image_check_unchanged(&img_), IMAGE_ERR_CHANGED);
}

}  // namespace
