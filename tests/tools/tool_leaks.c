/*
 * tool_leaks.c - linked into the test tools (rove_probe, rove_raw, ...) of
 * a build under the sanitizers: their LeakSanitizer check at exit is off.
 * A tool is the tests' hand, not the product: what it leaks on its way
 * out says nothing of rove, and the check cost each of its runs about
 * 17 ms of CPU (twice its start), thousands of runs across the suite.
 * ASAN_OPTIONS in the environment still decides over this default.
 */
const char *__asan_default_options(void);

const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
