/*
 * ui_html.c - the page buffer of `rove ui` and the escaping of what goes
 * into a page: every value that did not come from this program is
 * written through ui_esc.
 */
#include "ui.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ui_buf_free(ui_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

void ui_putn(ui_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 16384;
		char *p;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > ROVE_UI_MAX_PAGE || (p = realloc(b->data, cap)) == NULL) {
			b->failed = true;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void ui_put(ui_buf *b, const char *s)
{
	ui_putn(b, s, strlen(s));
}

void ui_printf(ui_buf *b, const char *fmt, ...)
{
	char small[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		ui_putn(b, small, (size_t)n);
		return;
	}
	{
		char *big = malloc((size_t)n + 1);
		if (big == NULL) {
			b->failed = true;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		ui_putn(b, big, (size_t)n);
		free(big);
	}
}

void ui_escn(ui_buf *b, const char *s, size_t n)
{
	size_t from = 0, len;

	for (size_t i = 0; i < n; i += len) {
		const char *ent;
		uint32_t cp;
		len = 1;
		switch (s[i]) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default:
			if ((unsigned char)s[i] < 0x80)
				continue;
			/* Bytes that are not UTF-8 (a URL's %FF%FE echoed in a
			 * form) go out as U+FFFD, not as they came into a page
			 * said to be UTF-8 (attack eighty-two). */
			len = rove_utf8_next(s + i, n - i, &cp);
			if (cp != ROVE_UTF8_BAD)
				continue;
			ent = "\xef\xbf\xbd";
			break;
		}
		ui_putn(b, s + from, i - from);
		ui_put(b, ent);
		from = i + len;
	}
	ui_putn(b, s + from, n - from);
}

void ui_esc(ui_buf *b, const char *s)
{
	ui_escn(b, s, strlen(s));
}

void ui_urlenc(ui_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		    *p == '_' || *p == '.' || *p == '~') {
			ui_putn(b, (const char *)p, 1);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			ui_putn(b, e, 3);
		}
	}
}
