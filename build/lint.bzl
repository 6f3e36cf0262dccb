"""lint.bzl — what a package hands the static checks of //tests/lint.

c_sources() declares `c_sources`: every C source, header and assembly
file of the package itself, for the layout test (which directory may
include what).
"""

def c_sources():
    native.filegroup(
        name = "c_sources",
        srcs = native.glob(["*.c", "*.h", "*.S"], allow_empty = True),
        visibility = ["//tests/lint:__pkg__"],
    )
