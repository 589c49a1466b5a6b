/* rove_log_quote: what a name from outside becomes in a log line. */
#include "check.h"
#include "log.h"

#include <string.h>

static int quotes_to(const char *in, size_t len, const char *want)
{
	char out[512];

	rove_log_quote(out, len, in);
	if (strcmp(out, want) != 0) {
		fprintf(stderr, "quote of \"%s\" (room %zu): got %s, want %s\n", in, len, out, want);
		return 0;
	}
	return 1;
}

int main(void)
{
	char big[ROVE_MAX_NAME + 1], want[ROVE_LOG_QUOTED(ROVE_MAX_NAME)];

	CHECK(quotes_to("alice", 512, "'alice'"));
	CHECK(quotes_to("", 512, "''"));
	/* What could end a line or drive a terminal is escaped. */
	CHECK(quotes_to("eve\nroved: forged\r\t", 512, "'eve\\nroved: forged\\r\\t'"));
	CHECK(quotes_to("\x1b[31mred\x7f\x01", 512, "'\\x1b[31mred\\x7f\\x01'"));
	CHECK(quotes_to("it's a\\b", 512, "'it\\'s a\\\\b'"));
	/* UTF-8 stays readable; C1 controls, U+2028/9 and broken UTF-8 do not. */
	CHECK(quotes_to("王小明", 512, "'王小明'"));
	CHECK(quotes_to("a\xc2\x9b" "b", 512, "'a\\xc2\\x9bb'"));
	CHECK(quotes_to("a\xe2\x80\xa8" "b", 512, "'a\\xe2\\x80\\xa8b'"));
	CHECK(quotes_to("\xc3(\xff\xc0\xaf\xed\xa0\x80", 512, "'\\xc3(\\xff\\xc0\\xaf\\xed\\xa0\\x80'"));
	CHECK(quotes_to("\xe4\xb8", 512, "'\\xe4\\xb8'"));
	/* Cut between characters, never inside an escape or a sequence. */
	CHECK(quotes_to("abcdefghij", 10, "'abcd'..."));
	CHECK(quotes_to("ab\ncdefgh", 9, "'ab'..."));
	CHECK(quotes_to("王小明", 9, "'王'..."));
	CHECK(quotes_to("abcde", 8, "'abcde'"));
	/* A name of ROVE_MAX_NAME bytes, all escaped, fits ROVE_LOG_NAME. */
	memset(big, '\n', ROVE_MAX_NAME);
	big[ROVE_MAX_NAME] = '\0';
	want[0] = '\'';
	for (unsigned i = 0; i < ROVE_MAX_NAME; i++)
		memcpy(want + 1 + 2 * i, "\\n", 2);
	memcpy(want + 1 + 2 * ROVE_MAX_NAME, "'", 2);
	CHECK(strcmp(ROVE_LOG_NAME(big), want) == 0);
	memset(big, 0x01, ROVE_MAX_NAME);
	CHECK(strlen(ROVE_LOG_NAME(big)) == 4 * ROVE_MAX_NAME + 2);
	return check_done("test_log");
}
