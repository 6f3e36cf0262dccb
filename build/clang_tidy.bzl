"""clang_tidy.bzl — clang-tidy over the project's C and C++ sources, each
with the flags Bazel compiles it with: the toolchain's own flags, the
configuration's --copt and --conlyopt/--cxxopt (.bazelrc, and
--config=asan's), the rule's copts and local_defines, and the includes,
quote includes, system includes and defines of the target's compilation
context. So a guest source is parsed freestanding with GUEST_COPTS
(-nostdinc, clang's own headers through -isystem), and a sanitizer
build's sources with the sanitizer build's flags.

clang_tidy_aspect   on every cc_library / cc_binary / cc_test reached
                    through `deps`, `srcs` and `data`: one ClangTidy
                    action per C (.c) or C++ (.cc, .cpp, .cxx) source
                    file of the rule's own package, writing
                    <target>.clang_tidy/<path>.log. The action never
                    fails: the log records the file, the target, the
                    command, clang-tidy's output and its exit status, and
                    the test judges them. Checked-in sources only (a
                    generated .c is its generator's output, not code
                    anyone edits); a source of another package (fuzz/'s
                    lib_srcs, //tests/sandbox's renamed guest/lib.c) is
                    checked in the targets of its own package, not once
                    more per consumer. External repositories (googletest)
                    are not checked. An aspect does not follow a generated
                    file to the rule that made it, so what only a genrule
                    reaches (a guest image's objects) must be a root.
clang_tidy_logs     the logs of `targets` (and of all they reach) as
                    runfiles, with a manifest ("log PATH" and "hdr PATH"
                    lines), and the checked sources and the checked
                    rules' own headers themselves (the test reads their
                    NOLINT comments; clang-tidy checks a header through
                    the sources that include it: HeaderFilterRegex).
clang_tidy_test     macro: clang_tidy_logs + the sh_test that turns them
                    into one JUnit case per source file
                    (tests/clang_tidy/clang_tidy_test.sh).

The checks are the checked-in /.clang-tidy and tests/.clang-tidy (which
inherits it): both are inputs of every action, so clang-tidy finds the
one above each source in the sandbox as it does in the work tree, and a
change to either re-runs the checks. clang-tidy is Debian's clang-tidy-14
(scripts/install-deps.sh), the LLVM of the clang-14 the toolchain
compiles with, so it parses exactly what the compiler parses and finds
clang's own headers where GUEST_COPTS points -isystem.

The actions are part of the build of //tests/clang_tidy (so of
`bazel build //...` and `bazel test //...`) and are cached like
compiles: after a change only the sources it can affect are checked
again.
"""

load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")
load("@bazel_tools//tools/build_defs/cc:action_names.bzl", "ACTION_NAMES")

CLANG_TIDY = "/usr/lib/llvm-14/bin/clang-tidy"

ClangTidyInfo = provider(
    doc = "clang-tidy logs of a target and of everything it reaches",
    fields = {
        "logs": "depset of File: one log per checked source",
        "srcs": "depset of File: the checked sources",
        "hdrs": "depset of File: the checked rules' own headers (for their NOLINTs)",
    },
)

_C_EXTENSIONS = ["c"]
_CXX_EXTENSIONS = ["cc", "cpp", "cxx"]
_HDR_EXTENSIONS = ["h", "hh", "hpp", "inc"]
_CC_KINDS = ["cc_library", "cc_binary", "cc_test"]
_PROPAGATE = ["deps", "srcs", "data"]

# The action: FILE TARGET LOG then the clang-tidy command line. Writes a
# header naming the file, the target and the command, clang-tidy's
# output (paths relative to the execution root, without the "N warnings
# generated." counts of what .clang-tidy does not enable), and a last
# line with its exit status; always exits 0 (a finding is the test's
# verdict, not a build failure).
_RUN = """\
set -u
file=$1 target=$2 log=$3
shift 3
{
  printf 'file: %s\\n' "$file"
  printf 'target: %s\\n' "$target"
  printf 'command:'
  printf ' %q' "$@"
  printf '\\n'
  "$@" 2>&1 | sed -e "s|$PWD/||g" -e '/^[0-9][0-9]* warnings* \\(and [0-9][0-9]* errors* \\)*generated\\.$/d'
  printf 'clang-tidy exit status: %d\\n' "${PIPESTATUS[0]}"
} >"$log" 2>&1
exit 0
"""

def _compile_argv(ctx, target, cc_toolchain, features, is_cxx):
    """The flags Bazel's compile action gives a source of this rule."""
    if CcInfo in target:
        comp = target[CcInfo].compilation_context
    else:
        comp = cc_common.merge_compilation_contexts(compilation_contexts = [
            d[CcInfo].compilation_context
            for d in getattr(ctx.rule.attr, "deps", [])
            if CcInfo in d
        ])
    cpp = ctx.fragments.cpp
    user_flags = list(cpp.copts)
    user_flags += cpp.cxxopts if is_cxx else cpp.conlyopts
    for copt in getattr(ctx.rule.attr, "copts", []):
        if "$(" in copt:
            fail("%s: copt %r needs make-variable expansion, which clang_tidy.bzl does not do" % (ctx.label, copt))
        user_flags.append(copt)
    local_defines = getattr(ctx.rule.attr, "local_defines", [])
    variables = cc_common.create_compile_variables(
        feature_configuration = features,
        cc_toolchain = cc_toolchain,
        user_compile_flags = user_flags,
        include_directories = comp.includes,
        # A binary's own context may lack its package's root and bin
        # directory (a cc_library's has them); Bazel's compile has them.
        quote_include_directories = depset(
            [".", ctx.bin_dir.path, ctx.genfiles_dir.path],
            transitive = [comp.quote_includes],
        ),
        system_include_directories = comp.system_includes,
        framework_include_directories = comp.framework_includes,
        preprocessor_defines = depset(local_defines, transitive = [comp.defines]),
    )
    action = ACTION_NAMES.cpp_compile if is_cxx else ACTION_NAMES.c_compile
    argv = cc_common.get_memory_inefficient_command_line(
        feature_configuration = features,
        action_name = action,
        variables = variables,
    )
    return argv, comp.headers

def _clang_tidy_aspect_impl(target, ctx):
    trans_logs = []
    trans_srcs = []
    trans_hdrs = []
    for attr in _PROPAGATE:
        for dep in getattr(ctx.rule.attr, attr, []):
            if type(dep) == "Target" and ClangTidyInfo in dep:
                trans_logs.append(dep[ClangTidyInfo].logs)
                trans_srcs.append(dep[ClangTidyInfo].srcs)
                trans_hdrs.append(dep[ClangTidyInfo].hdrs)

    logs = []
    srcs = []
    hdrs = []
    if ctx.rule.kind in _CC_KINDS and not target.label.workspace_root:
        cc_toolchain = find_cpp_toolchain(ctx)
        features = cc_common.configure_features(
            ctx = ctx,
            cc_toolchain = cc_toolchain,
            requested_features = ctx.features,
            unsupported_features = ctx.disabled_features,
        )
        mine = [
            f
            for f in getattr(ctx.rule.files, "srcs", []) + getattr(ctx.rule.files, "hdrs", [])
            if f.is_source and f.owner.package == ctx.label.package and
               f.owner.workspace_root == ""
        ]
        own = [f for f in mine if f.extension in _C_EXTENSIONS + _CXX_EXTENSIONS]
        hdrs = [f for f in mine if f.extension in _HDR_EXTENSIONS]
        private_hdrs = [
            f
            for f in getattr(ctx.rule.files, "srcs", [])
            if f.extension in _HDR_EXTENSIONS
        ]
        configs = ctx.files._configs
        for src in own:
            argv, headers = _compile_argv(ctx, target, cc_toolchain, features, src.extension in _CXX_EXTENSIONS)
            log = ctx.actions.declare_file("%s.clang_tidy/%s.log" % (ctx.label.name, src.short_path))
            args = ctx.actions.args()
            args.add(src.short_path)
            args.add(str(ctx.label))
            args.add(log)
            args.add(CLANG_TIDY)
            args.add("--quiet")
            if src.extension in _CXX_EXTENSIONS:
                # The C++ sources are the googletest tests. The static
                # analyzer's path exploration of their TEST() bodies costs
                # 50 s a file (qcow2_check_test.cc: 50.8 s, 4.3 s without
                # clang-analyzer-*; 20 such files were most of the CI's
                # clang-tidy time) and would find defects of the tests, not
                # of instar: every other check still runs on them, and the
                # analyzer on every C source (the code they test).
                args.add("--checks=-clang-analyzer-*")
            args.add(src)
            args.add("--")
            args.add_all(argv)
            # Last: without _FORTIFY_SOURCE, as --config=asan builds, so
            # that the checks see fprintf & co. rather than the
            # __*_chk calls FORTIFY renames them to (cert-err33-c knows
            # only the former). The static tests then run in the plain
            # pass alone (scripts/test.sh, tag "static").
            args.add("-U_FORTIFY_SOURCE")
            ctx.actions.run_shell(
                command = _RUN,
                arguments = [args],
                inputs = depset(
                    [src] + configs + private_hdrs,
                    transitive = [headers, cc_toolchain.all_files],
                ),
                outputs = [log],
                mnemonic = "ClangTidy",
                progress_message = "clang-tidy %s (%s)" % (src.short_path, ctx.label),
            )
            logs.append(log)
            srcs.append(src)

    return [ClangTidyInfo(
        logs = depset(logs, transitive = trans_logs),
        srcs = depset(srcs, transitive = trans_srcs),
        hdrs = depset(hdrs, transitive = trans_hdrs),
    )]

clang_tidy_aspect = aspect(
    implementation = _clang_tidy_aspect_impl,
    attr_aspects = _PROPAGATE,
    attrs = {
        # Every .clang-tidy of the tree (clang-tidy finds each above the
        # source it checks, as it would outside Bazel).
        "_configs": attr.label_list(
            default = ["//:.clang-tidy", "//tests:.clang-tidy"],
            allow_files = True,
        ),
        "_cc_toolchain": attr.label(default = "@bazel_tools//tools/cpp:current_cc_toolchain"),
    },
    fragments = ["cpp"],
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
    incompatible_use_toolchain_transition = True,
)

def _clang_tidy_logs_impl(ctx):
    logs = depset(transitive = [t[ClangTidyInfo].logs for t in ctx.attr.targets])
    srcs = depset(transitive = [t[ClangTidyInfo].srcs for t in ctx.attr.targets])
    hdrs = depset(transitive = [t[ClangTidyInfo].hdrs for t in ctx.attr.targets])
    manifest = ctx.actions.declare_file(ctx.label.name + ".manifest")
    content = ctx.actions.args()
    content.set_param_file_format("multiline")
    content.add_all(logs, map_each = _log_line)
    content.add_all(hdrs, map_each = _hdr_line)
    ctx.actions.write(manifest, content)
    return [DefaultInfo(
        files = depset([manifest]),
        runfiles = ctx.runfiles(
            files = [manifest],
            transitive_files = depset(transitive = [logs, srcs, hdrs]),
        ),
    )]

def _log_line(f):
    return "log " + f.short_path

def _hdr_line(f):
    return "hdr " + f.short_path

clang_tidy_logs = rule(
    implementation = _clang_tidy_logs_impl,
    attrs = {
        "targets": attr.label_list(aspects = [clang_tidy_aspect]),
    },
    doc = "The clang-tidy logs of `targets` and of all they reach, with a manifest.",
)

def clang_tidy_test(name, targets, args = [], size = "medium", testonly = False, **kwargs):
    """A test: every source `targets` reach is clang-tidy clean.

    Args:
      name: the test.
      targets: the roots; the aspect follows their deps, srcs and data.
      args: more arguments for clang_tidy_test.sh before the manifest.
      size: the test's size.
      testonly: for roots that are test-only.
      **kwargs: for the sh_test (tags, ...).
    """
    clang_tidy_logs(
        name = name + "_logs",
        targets = targets,
        testonly = testonly,
        # The test's tags ("static"; "external" is the test's alone: it
        # reads the work tree), so that a pass that leaves the test out
        # (scripts/test.sh's sanitizer pass) does not run clang-tidy for
        # nothing: an untagged logs target under //... did, in the other
        # configuration, 212 actions and 900 s of CPU.
        tags = [t for t in kwargs.get("tags", []) if t != "external"],
    )
    native.sh_test(
        name = name,
        size = size,
        srcs = ["//tests/clang_tidy:clang_tidy_test.sh"],
        args = args + ["$(location :%s_logs)" % name],
        data = [
            ":%s_logs" % name,
            "//tests/lib:junit.sh",
        ],
        env = {"JUNIT_SH": "tests/lib/junit.sh"},
        **kwargs
    )
