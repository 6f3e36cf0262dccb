/*
 * commit_fault.h — the test-only fault-injection point of commit.c.
 * Exists only in //src/image:image_io_fault_injection (testonly), which
 * compiles commit.c with INSTAR_COMMIT_FAULT_INJECTION; the shipped
 * //src/cli:instar links //src/image:image_io, which has none of this.
 *
 * Set commit_fault_stop_after = k (k >= 1) and image_commit() (or
 * image_expand(), expand_file.c) returns IMAGE_ERR_WRITE (sys_errno
 * ECANCELED) right after the k-th pwrite the two have made together,
 * without the fdatasync or any later write — the file is what a crash at
 * that moment would leave (as far as the order of writes goes).
 * commit_fault_writes / commit_fault_syncs count the writes and syncs
 * made since the caller last set them to 0. Trust: test code only.
 */
#ifndef INSTAR_COMMIT_FAULT_H
#define INSTAR_COMMIT_FAULT_H

#ifndef INSTAR_COMMIT_FAULT_INJECTION
#error "commit_fault.h is for test builds (//src/image:image_io_fault_injection)"
#endif

#ifdef __cplusplus
extern "C" {
#endif

extern unsigned commit_fault_stop_after;
extern unsigned commit_fault_writes;
extern unsigned commit_fault_syncs;

#ifdef __cplusplus
}
#endif

#endif
