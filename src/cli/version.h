/*
 * version.h — instar's version number, and the source revision the
 * binary was built from. The number is written here and nowhere else
 * (the manual pages read it from `instar --version`). The revision is
 * supplied by the binary, as the guest is: the shipped `instar` links
 * the stamp Bazel writes from the work tree's git state
 * (//src/cli:revision, build/stamp_revision.sh), test-only binaries
 * link revision_unstamped.c. Trust: none needed; both are constants.
 */
#ifndef INSTAR_VERSION_H
#define INSTAR_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

#define INSTAR_VERSION "0.1.0"

/* "git <abbreviated commit>", with "-dirty" appended when tracked files
 * differed from that commit, or "revision unknown" (built outside a git
 * work tree, or without git). Only [0-9a-z -] characters. */
extern const char instar_revision[];

#ifdef __cplusplus
}
#endif

#endif
