"""Compiler flags for the code shared by the host and the amend guest
(src/qcow2, src/amend), built the way the guest builds it: no libc, no
hosted headers beyond clang's own, no sanitizers, no red zone."""

FREESTANDING_COPTS = [
    "-ffreestanding",
    "-fno-builtin",
    "-nostdinc",
    "-isystem",
    "/usr/lib/llvm-14/lib/clang/14.0.6/include",
    "-fno-sanitize=all",
    "-fno-stack-protector",
    "-U_FORTIFY_SOURCE",
    "-fno-pic",
    "-mno-red-zone",
    "-mgeneral-regs-only",
    "-O2",
]
