/* rove_log_quote: what a name from outside becomes in a log line.
 * rove_log_hold: error lines held back, the first one kept. */
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

static int sunk;

static void count_sink(int level, const char *line, void *arg)
{
	(void)level;
	(void)line;
	(void)arg;
	sunk++;
}

/* Held: errors reach neither stderr nor the sink, and the first is kept
 * (cut to the room given); warnings still go through. Released: errors
 * go through again. */
static void held_lines(void)
{
	char first[16];

	rove_log_init("test_log", ROVE_LOG_ERROR);
	rove_log_set_sink(count_sink, NULL);
	rove_log_hold(first, sizeof(first));
	CHECK(first[0] == '\0');
	rove_error("the first reason, longer than its room");
	rove_error("a second");
	CHECK(strcmp(first, "the first reaso") == 0);
	CHECK(sunk == 0);
	rove_warn("a warning");
	CHECK(sunk == 1);
	rove_log_hold(NULL, 0);
	rove_error("released: printed and sunk");
	CHECK(sunk == 2);
	CHECK(strcmp(first, "the first reaso") == 0);
	rove_log_set_sink(NULL, NULL);
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
	held_lines();
	return check_done("test_log");
}
