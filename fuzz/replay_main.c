/*
 * replay_main.c — the main() of the corpus replay tests: runs every file
 * under the directories (or the files) named on the command line once
 * through the target's LLVMFuzzerTestOneInput, so each seed and each
 * regression reproducer is an ordinary test in `bazel test //...` (and,
 * built with coverage flags, what fuzz/coverage.sh measures).
 *
 * A crash or a broken invariant (FUZZ_ASSERT traps) fails the test; so
 * does an argument that names nothing, or a first argument (the seed
 * corpus) holding no file: a replay that runs nothing must not pass.
 * An argument of the form "?PATH" may be missing or empty (regression
 * directories start empty).
 *
 * Trust: the files are test data from the repository.
 */
#define _DEFAULT_SOURCE /* DT_DIR / d_type */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/fuzz_util.h"

/* Diagnostics on stderr are not checked ((void)): one that cannot be
 * written has nowhere else to go, and the exit status still tells. */

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		(void)fprintf(stderr, "replay: cannot read %s\n", path);
		if (f)
			(void)fclose(f);   /* read-only, and failing anyway */
		return -1;
	}
	/* One spare byte so an empty file still has a valid pointer. */
	buf = malloc((size_t)n + 1u);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		(void)fprintf(stderr, "replay: cannot read %s\n", path);
		free(buf);
		(void)fclose(f);   /* read-only, and failing anyway */
		return -1;
	}
	(void)fclose(f);   /* read-only: the read was checked above */
	(void)fprintf(stderr, "replay: %s (%ld bytes)\n", path, n);
	/* Copy into a block of exactly n bytes so reads past the input are
	 * caught by ASan as they are under libFuzzer. */
	{
		uint8_t *exact = malloc(n ? (size_t)n : 1u);
		if (exact == NULL) {
			free(buf);
			return -1;
		}
		memcpy(exact, buf, (size_t)n);
		LLVMFuzzerTestOneInput(exact, (size_t)n);
		free(exact);
	}
	free(buf);
	return 1;
}

static int run_path(const char *path)
{
	struct stat st;
	struct dirent **names;
	int n, count = 0;

	if (stat(path, &st) != 0)
		return -2;
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		char child[4096];
		if (names[i]->d_name[0] != '.') {
			int w = snprintf(child, sizeof(child), "%s/%s", path,
					 names[i]->d_name);
			int r = -1;   /* a cut path would name another file */
			if (w >= 0 && (size_t)w < sizeof(child))
				r = run_path(child);
			if (r < 0 && count >= 0)
				count = -1;
			else if (count >= 0)
				count += r;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

int main(int argc, char **argv)
{
	int total = 0;

	if (argc < 2) {
		(void)fprintf(stderr, "usage: %s CORPUS_DIR [?REGRESSION_DIR]...\n",
			      argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		bool optional = argv[i][0] == '?';
		const char *path = optional ? argv[i] + 1 : argv[i];
		int r = run_path(path);
		if (r == -2 && optional)
			continue;
		if (r < 0) {
			(void)fprintf(stderr, "replay: %s: unreadable or missing\n", path);
			return 1;
		}
		if (r == 0 && (i == 1 || !optional)) {
			(void)fprintf(stderr, "replay: %s holds no input\n", path);
			return 1;
		}
		total += r;
	}
	printf("replay: %d inputs ran without a crash\n", total);
	return 0;
}
