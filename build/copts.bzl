"""copts.bzl — every compile setting the project defines, in one place.

GUEST_COPTS   code that runs inside the sandbox guest (guest/, the test
              guests, and the freestanding builds of src/qcow2 and
              src/amend linked into them): no libc and no hosted headers
              (only clang's own), no sanitizers, no red zone, no SIMD, no
              unwind tables. They come after the .bazelrc copts, so they
              override the host's hardening and sanitizer flags that make
              no sense in a freestanding guest.
TEST_COPTS    C++ test code: the C-oriented conversion warnings that
              googletest macros trip are relaxed, everything else stays
              strict.

hosted_and_freestanding_library(name, ...) declares a library twice from
the same sources: `name` for the host (tests, fuzzers, the CLI) and
`name_freestanding` built with GUEST_COPTS for the guest.
"""

GUEST_COPTS = [
    "-ffreestanding",
    "-fno-builtin",
    "-nostdinc",
    "-isystem",
    "/usr/lib/llvm-14/lib/clang/14.0.6/include",
    "-fno-pic",
    "-fno-pie",
    "-mno-red-zone",
    "-mcmodel=small",
    "-mno-sse",
    "-mno-mmx",
    "-mno-sse2",
    "-mno-avx",
    "-mgeneral-regs-only",
    "-fno-stack-protector",
    "-fno-sanitize=all",
    "-U_FORTIFY_SOURCE",
    "-fno-asynchronous-unwind-tables",
    "-fno-unwind-tables",
    "-fno-exceptions",
    "-fcf-protection=none",
    "-O2",
]

TEST_COPTS = [
    "-Wno-sign-conversion",
    "-Wno-conversion",
    "-Wno-shadow",
]

def hosted_and_freestanding_library(name, srcs, hdrs, deps = [], freestanding_deps = [], visibility = None):
    """`name` (hosted) and `name`_freestanding (GUEST_COPTS, static)."""
    native.cc_library(
        name = name,
        srcs = srcs,
        hdrs = hdrs,
        deps = deps,
        visibility = visibility,
    )
    native.cc_library(
        name = name + "_freestanding",
        srcs = srcs,
        hdrs = hdrs,
        copts = GUEST_COPTS,
        linkstatic = True,
        deps = freestanding_deps,
        visibility = visibility,
    )
