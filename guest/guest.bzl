"""guest.bzl — how a sandbox guest is built: freestanding x86-64 C/asm,
linked at GUEST_IMAGE_GPA with guest.ld, flattened with objcopy, and
wrapped in an assembly file that .incbin's the flat image so the host
binary carries it (no loading from a path at run time).

guest_image(name, ...) makes:
  <name>_elf       the linked ELF (guest_elf rule; for inspection)
  <name>.bin       the flat image (size-checked against GUEST_IMAGE_MAX)
  <name>_embedded  cc_library exposing <symbol>_start / <symbol>_end and
                   <symbol>_text_len / <symbol>_ro_len (where the image's
                   page permissions change)
"""

load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")
load("//build:copts.bzl", "GUEST_COPTS")

# The guest is linked by guest_elf below, not by cc_binary: a cc_binary
# link line also carries the global --linkopt flags (e.g. --config=asan's
# -fsanitize=address), which would drag the sanitizer runtime into a
# freestanding image. guest_elf links exactly the guest's own archives.
GUEST_LINK_FLAGS = [
    "-nostdlib",
    "-static",
    "-fno-pie",
    "-fno-sanitize=all",
    "-Wl,--build-id=none",
    "-Wl,-z,norelro",
    "-Wl,-z,noexecstack",
    "-Wl,--no-undefined",
]

def _guest_elf_impl(ctx):
    cc = find_cpp_toolchain(ctx)
    out = ctx.actions.declare_file(ctx.label.name)
    whole = []
    rest = []
    for dep in ctx.attr.deps:
        for li in dep[CcInfo].linking_context.linker_inputs.to_list():
            for lib in li.libraries:
                a = lib.static_library or lib.pic_static_library
                if a == None:
                    fail("guest library without a static archive: %s" % li.owner)
                if lib.alwayslink:
                    if a not in whole:
                        whole.append(a)
                elif a not in rest:
                    rest.append(a)
    args = ctx.actions.args()
    args.add_all(GUEST_LINK_FLAGS)
    args.add("-Wl,-T," + ctx.file.linker_script.path)
    args.add("-o", out)
    args.add("-Wl,--whole-archive")
    args.add_all(whole)
    args.add("-Wl,--no-whole-archive")
    args.add("-Wl,--start-group")
    args.add_all(rest)
    args.add("-Wl,--end-group")
    ctx.actions.run(
        executable = cc.compiler_executable,
        arguments = [args],
        inputs = depset(whole + rest + [ctx.file.linker_script], transitive = [cc.all_files]),
        outputs = [out],
        mnemonic = "GuestLink",
        progress_message = "Linking guest %s" % out.short_path,
    )
    return [DefaultInfo(files = depset([out]))]

guest_elf = rule(
    implementation = _guest_elf_impl,
    attrs = {
        "deps": attr.label_list(providers = [CcInfo]),
        "linker_script": attr.label(allow_single_file = True, mandatory = True),
        "_cc_toolchain": attr.label(default = "@bazel_tools//tools/cpp:current_cc_toolchain"),
    },
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
    incompatible_use_toolchain_transition = True,
)

# GUEST_IMAGE_MAX from abi/guest_abi.h (0xf0000); the linker script
# asserts the same bound including .bss, this re-checks the flat file.
_GUEST_IMAGE_MAX = 983040

def guest_image(name, srcs = [], deps = [], symbol = None, testonly = False, visibility = None):
    """A flat guest image `<name>.bin` and its embedding library."""
    if symbol == None:
        symbol = "instar_" + name + "_bin"
    lib_deps = deps
    if srcs:
        native.cc_library(
            name = name + "_objs",
            srcs = srcs,
            deps = deps + ["//guest:guest_rt"],
            copts = GUEST_COPTS,
            linkstatic = True,
            alwayslink = True,
            testonly = testonly,
            # //tests/clang_tidy checks the guest's sources from its
            # objects (the embedded image hides them).
            visibility = ["//tests/clang_tidy:__pkg__"],
        )
        lib_deps = [":" + name + "_objs"]
    guest_elf(
        name = name + "_elf",
        deps = lib_deps + ["//guest:guest_rt"],
        linker_script = "//guest:guest.ld",
        testonly = testonly,
        visibility = ["//visibility:private"],
    )
    native.genrule(
        name = name + "_flat",
        srcs = [":" + name + "_elf"],
        outs = [name + ".bin"],
        cmd = ("$(OBJCOPY) -O binary $< $@ && " +
               "size=$$(wc -c < $@) && " +
               "if [ $$size -eq 0 ] || [ $$size -gt %d ]; then " % _GUEST_IMAGE_MAX +
               "echo \"guest image $@ is $$size bytes (limit %d)\" >&2; exit 1; fi" % _GUEST_IMAGE_MAX),
        toolchains = ["@bazel_tools//tools/cpp:current_cc_toolchain"],
        testonly = testonly,
        visibility = visibility,
    )
    # The blob becomes a C array (od + sed: coreutils only). An assembler
    # .incbin was tried first, but its input is invisible to Bazel's
    # dependency tracking for .S files and an old guest stayed embedded
    # after the guest changed; a generated .c has no such gap. The two
    # permission marks of the linker script (__text_end, __ro_end) are
    # read from the ELF's symbol table and embedded beside it.
    native.genrule(
        name = name + "_embed_src",
        srcs = [":" + name + ".bin", ":" + name + "_elf"],
        outs = [name + "_embed.c"],
        cmd = ("bin=$(location :%s.bin) && elf=$(location :%s_elf) && " % (name, name) +
               "n=$$(wc -c < $$bin) && " +
               "mark() { $(NM) $$elf | awk -v s=$$1 '$$3 == s { print $$1 }'; } && " +
               "base=$$(mark _start) && text=$$(mark __text_end) && ro=$$(mark __ro_end) && " +
               "[ -n \"$$base\" ] && [ -n \"$$text\" ] && [ -n \"$$ro\" ] && { " +
               "printf '/* generated by guest.bzl: the flat guest image %s.bin */\\n'; " % name +
               "printf '#include <stddef.h>\\n'; " +
               "printf '__attribute__((aligned(4096), section(\\\".rodata.%s\\\")))\\n' ; " % symbol +
               "printf 'const unsigned char %s_start[] = {\\n'; " % symbol +
               "od -An -v -tx1 $$bin | sed -e 's/ *\\([0-9a-f][0-9a-f]\\)/0x\\1,/g'; " +
               "printf '};\\n'; " +
               "printf '__asm__(\\\".globl %s_end\\\\n\\\\t.set %s_end, %s_start + %%s\\\");\\n' \"$$n\"; " % (symbol, symbol, symbol) +
               "printf 'const unsigned long %s_text_len = 0x%%x;\\n' $$((0x$$text - 0x$$base)); " % symbol +
               "printf 'const unsigned long %s_ro_len = 0x%%x;\\n' $$((0x$$ro - 0x$$base)); " % symbol +
               "} > $@"),
        toolchains = ["@bazel_tools//tools/cpp:current_cc_toolchain"],
        testonly = testonly,
        visibility = ["//visibility:private"],
    )
    native.genrule(
        name = name + "_embed_hdr",
        outs = [name + "_embedded.h"],
        cmd = ("printf '%s' " +
               "'/* generated by guest.bzl: bounds of the embedded guest image */\n" +
               "#ifndef INSTAR_EMBED_%s_H\n" % symbol.upper() +
               "#define INSTAR_EMBED_%s_H\n" % symbol.upper() +
               "#ifdef __cplusplus\nextern \"C\" {\n#endif\n" +
               "extern const unsigned char %s_start[];\n" % symbol +
               "extern const unsigned char %s_end[];\n" % symbol +
               "/* bytes of code, and of code + read-only data, from the start */\n" +
               "extern const unsigned long %s_text_len;\n" % symbol +
               "extern const unsigned long %s_ro_len;\n" % symbol +
               "#ifdef __cplusplus\n}\n#endif\n#endif\n' > $@"),
        testonly = testonly,
        visibility = ["//visibility:private"],
    )
    native.cc_library(
        name = name + "_embedded",
        srcs = [name + "_embed.c"],
        hdrs = [name + "_embedded.h"],
        copts = ["-Wno-missing-variable-declarations", "-Wno-overlength-strings"],
        linkstatic = True,
        testonly = testonly,
        visibility = visibility,
    )
