/*
 * rove_assert.h - assertions that stay in release builds.
 *
 * ROVE_ASSERT is for what must never happen (a programmer's error): at the
 * handoffs where one module trusts another - a decoded message reaching
 * its handler, a record about to be written, a state machine's state -
 * and it aborts with the file and line, in every build (assert() is gone
 * under NDEBUG, which Release builds set). Errors an operator or a peer
 * can cause are returned, never asserted.
 */
#ifndef ROVE_ASSERT_H
#define ROVE_ASSERT_H

/* Prints "what failed at file:line" to stderr and aborts. */
_Noreturn void rove_assert_fail(const char *what, const char *file, int line);

#define ROVE_ASSERT(cond) ((cond) ? (void)0 : rove_assert_fail(#cond, __FILE__, __LINE__))

#endif
