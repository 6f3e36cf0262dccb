"""fuzz.bzl — instar_fuzz_target(): one fuzz harness, built two ways.

  NAME_fuzzer       cc_binary: the harness and the code under test compiled
                    with libFuzzer's coverage instrumentation, ASan and
                    UBSan, linked with libFuzzer's main (-fsanitize=fuzzer).
                    The code under test comes in as *sources*, not as the
                    project's cc_library, because Bazel 4 has no way to
                    give a dependency extra copts: a library built without
                    -fsanitize=fuzzer-no-link gives libFuzzer no coverage
                    to steer by. lib_sources() collects the srcs and hdrs
                    of `deps` and of everything they depend on with an
                    aspect, so the fuzzer compiles exactly the files the
                    libraries do, with no second list to keep in step.
  NAME_replay_test  cc_test: the same harness linked against the ordinary
                    libraries (`deps`) with replay_main.c, running every
                    file of corpus/NAME and regressions/NAME once. It is
                    built like every other test, so --config=asan replays
                    the corpus under ASan + UBSan too.

The fuzzers always carry ASan + UBSan; under --config=asan the same flags
come twice, which clang accepts. -U_FORTIFY_SOURCE after the global -D:
FORTIFY's checked libc calls hide reads from ASan's interceptors.
"""

FUZZ_COPTS = [
    "-fsanitize=fuzzer-no-link,address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
    "-gline-tables-only",
    "-O1",
    "-U_FORTIFY_SOURCE",
]

FUZZ_LINKOPTS = [
    "-fsanitize=fuzzer,address,undefined",
    # As --config=asan does: bfd links the sanitizer runtimes quietly.
    "-fuse-ld=bfd",
]

LibSourcesInfo = provider(
    doc = "srcs and hdrs of a cc_library and of its transitive deps",
    fields = ["files"],
)

def _lib_sources_aspect_impl(target, ctx):
    direct = []
    for attr in ("srcs", "hdrs", "textual_hdrs"):
        if hasattr(ctx.rule.files, attr):
            direct += getattr(ctx.rule.files, attr)
    trans = []
    if hasattr(ctx.rule.attr, "deps"):
        trans = [d[LibSourcesInfo].files for d in ctx.rule.attr.deps
                 if LibSourcesInfo in d]
    return [LibSourcesInfo(files = depset(direct, transitive = trans))]

_lib_sources_aspect = aspect(
    implementation = _lib_sources_aspect_impl,
    attr_aspects = ["deps"],
)

def _lib_sources_impl(ctx):
    files = depset(transitive = [l[LibSourcesInfo].files for l in ctx.attr.libs])
    return [DefaultInfo(
        files = files,
        runfiles = ctx.runfiles(transitive_files = files),
    )]

# The sources and headers of `libs` and their deps, as files a cc rule can
# compile.
lib_sources = rule(
    implementation = _lib_sources_impl,
    attrs = {"libs": attr.label_list(aspects = [_lib_sources_aspect])},
)

def instar_fuzz_target(name, srcs, deps, size = "small", testonly = False):
    """Declare NAME_fuzzer and NAME_replay_test.

    Args:
      name: target name; corpus/NAME and regressions/NAME hold its inputs.
      srcs: the harness (.c) and its fuzz/ headers.
      deps: the cc_library targets under test (their sources, and their
        deps' sources, are compiled into the fuzzer; the replay test links
        the libraries themselves).
      size: size of the replay test.
      testonly: for a target whose deps include test-only libraries.
    """
    lib_sources(
        name = name + "_lib_srcs",
        libs = deps,
        testonly = testonly,
    )
    native.cc_binary(
        name = name + "_fuzzer",
        testonly = testonly,
        srcs = srcs + [":%s_lib_srcs" % name],
        copts = FUZZ_COPTS,
        linkopts = FUZZ_LINKOPTS,
        features = ["-supports_start_end_lib"],
    )
    native.cc_test(
        name = name + "_replay_test",
        size = size,
        srcs = srcs + ["replay_main.c"],
        deps = deps,
        data = native.glob(["corpus/%s/**" % name]) +
               native.glob(["regressions/%s/**" % name], allow_empty = True),
        args = [
            "fuzz/corpus/" + name,
            "?fuzz/regressions/" + name,
        ],
    )
