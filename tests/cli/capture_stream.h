// capture_stream.h — for the command line's unit tests: what a printer
// writes to a FILE*, as a string (an open_memstream the test owns).
// Trusts: the printer under test writes only to the stream it is given.
#ifndef INSTAR_TESTS_CLI_CAPTURE_STREAM_H
#define INSTAR_TESTS_CLI_CAPTURE_STREAM_H

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

// Run f(stream) and return every byte it wrote.
template <typename F>
std::string Capture(F f) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* m = open_memstream(&buf, &len);
  f(m);
  EXPECT_EQ(0, fclose(m));
  std::string s(buf, len);
  free(buf);
  return s;
}

#endif
