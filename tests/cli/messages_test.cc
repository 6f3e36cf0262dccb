// messages_test.cc — the message table against the spec: every message
// the spec quotes is produced verbatim by the code that stands for it,
// and every code of every layer has a non-empty message.
#include <gtest/gtest.h>

#include <string>

#include "src/cli/messages.h"

namespace {

// Quoted from ../shared/spec/instar-amend.md, "Refusals and errors".
TEST(Messages, SpecTableVerbatim) {
  EXPECT_STREQ("only qcow2 images can be amended", msg_amend(AMEND_ERR_NOT_QCOW2));
  EXPECT_STREQ("cannot downgrade to compat=0.10: image uses a v3-only incompatible feature "
               "(compression, extended L2, external data, or is dirty/corrupt)",
               msg_amend(AMEND_ERR_DOWNGRADE_FEATURE));
  EXPECT_STREQ("cannot downgrade to compat=0.10: image uses refcount_bits != 16 (v2 supports "
               "16-bit refcounts only; rewriting the refcount tree is out of scope)",
               msg_amend(AMEND_ERR_DOWNGRADE_REFCOUNT));
  EXPECT_STREQ("lazy_refcounts=on requires compat=1.1 (lazy refcounts are a v3-only feature); "
               "upgrade with -o compat=1.1 first or in the same invocation",
               msg_amend(AMEND_ERR_LAZY_NEEDS_V3));
  EXPECT_STREQ("the image is marked dirty (another writer may hold it open); run `instar check` "
               "first",
               msg_amend(AMEND_ERR_DIRTY));
  EXPECT_STREQ("this compat change would have to relocate a header extension, which is not yet "
               "supported; use `qemu-img amend`",
               msg_amend(AMEND_ERR_RELOCATION));
  EXPECT_STREQ("the image header could not be parsed", msg_amend(AMEND_ERR_PARSE));
  const char* retry =
      "the image's header changed between the host's pre-probe and the guest's read, or a "
      "guest write failed; retry, or run `instar check` if the image may be corrupt";
  EXPECT_STREQ(retry, msg_sandbox(SANDBOX_ERR_HEADER_CHANGED));
  // Every run error has a message of its own, not the internal-error one.
  for (int i = SANDBOX_ERR_KVM_UNAVAILABLE; i < SANDBOX_ERR_COUNT_; i++)
    EXPECT_STRNE(msg_sandbox(static_cast<sandbox_err>(i)), msg_sandbox(SANDBOX_ERR_CONFIG)) << i;
  EXPECT_STREQ(retry, msg_image(IMAGE_ERR_CHANGED));
  EXPECT_STREQ(retry, msg_validate(VALIDATE_ERR_GUEST_IO));
  EXPECT_STREQ("the image is too large for the amend scratch buffer",
               msg_amend(AMEND_ERR_SCRATCH));
  EXPECT_STREQ("I/O error writing the image header", msg_image(IMAGE_ERR_WRITE));
  const char* overflow = "internal size or offset computation overflowed (host or guest bug)";
  EXPECT_STREQ(overflow, msg_amend(AMEND_ERR_OVERFLOW));
  EXPECT_STREQ("only qcow2 images can be amended", msg_args(ARGS_NOT_QCOW2_FORMAT));
  EXPECT_STREQ("Image amended.", msg_amend(AMEND_CHANGED));
  EXPECT_STREQ("No change.", msg_amend(AMEND_NOOP));
}

TEST(Messages, EveryCodeHasAMessage) {
  for (int i = ARGS_UNKNOWN_FLAG; i < ARGS_COUNT_; i++)
    EXPECT_GT(std::string(msg_args(static_cast<args_err>(i))).size(), 10u) << i;
  for (int i = AMEND_ERR_NOT_QCOW2; i < AMEND_STATUS_COUNT_; i++)
    EXPECT_GT(std::string(msg_amend(static_cast<amend_status>(i))).size(), 10u) << i;
  for (int i = IMAGE_ERR_OPEN; i < IMAGE_ERR_COUNT_; i++)
    EXPECT_GT(std::string(msg_image(static_cast<image_err>(i))).size(), 10u) << i;
  for (int i = SANDBOX_ERR_CONFIG; i < SANDBOX_ERR_COUNT_; i++)
    EXPECT_GT(std::string(msg_sandbox(static_cast<sandbox_err>(i))).size(), 10u) << i;
  for (int i = VALIDATE_ERR_RECORD; i < VALIDATE_ERR_COUNT_; i++)
    EXPECT_GT(std::string(msg_validate(static_cast<validate_err>(i))).size(), 10u) << i;
  for (int i = LOCKDOWN_ERR_PROFILE; i < LOCKDOWN_ERR_COUNT_; i++)
    EXPECT_GT(std::string(msg_lockdown(static_cast<lockdown_err>(i))).size(), 10u) << i;
}

TEST(Messages, RefusalsOfTheSameImageAreDistinct) {
  // Distinct causes, distinct words: a user can tell them apart.
  EXPECT_STRNE(msg_amend(AMEND_ERR_DIRTY), msg_amend(AMEND_ERR_CORRUPT));
  EXPECT_STRNE(msg_amend(AMEND_ERR_ZERO_CLUSTERS), msg_amend(AMEND_ERR_BITMAPS));
  EXPECT_STRNE(msg_amend(AMEND_ERR_SNAPSHOT_SIZE), msg_amend(AMEND_ERR_TABLES));
}

}  // namespace
