/*
 * revision_unstamped.c — the source revision of a test-only binary that
 * embeds the CLI (tests/validate): such a binary is not stamped, so
 * that it is not relinked whenever the work tree's revision changes,
 * and says so. The shipped `instar` links the stamp instead
 * (//src/cli:revision). Trust: none; a constant.
 */
#include "src/cli/version.h"

const char instar_revision[] = "revision unknown";
