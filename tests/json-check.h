/*
 * A strict JSON checker (RFC 8259: structure, strings with their escapes and
 * UTF-8, numbers, literals), enough to catch what `criu show --json` gets
 * wrong.  Shared by the fuzz target and the unit tests.
 */
#ifndef CRIU_TESTS_JSON_CHECK_H
#define CRIU_TESTS_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct json_in {
	const unsigned char *p, *end;
	int depth;
};

static bool json_value(struct json_in *in);

static void json_ws(struct json_in *in)
{
	while (in->p < in->end && (*in->p == ' ' || *in->p == '\n' || *in->p == '\t' || *in->p == '\r'))
		in->p++;
}

static bool json_lit(struct json_in *in, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(in->end - in->p) < n || memcmp(in->p, lit, n))
		return false;
	in->p += n;
	return true;
}

/* One UTF-8 sequence, shortest form, no surrogates. */
static bool json_utf8(struct json_in *in)
{
	unsigned c = *in->p++, n, cp;

	if (c < 0x80)
		return true;
	if (c >= 0xc2 && c <= 0xdf)
		n = 1, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3, cp = c & 0x07;
	else
		return false;
	if ((size_t)(in->end - in->p) < n)
		return false;
	for (unsigned i = 0; i < n; i++, in->p++) {
		if ((*in->p & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (*in->p & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	return true;
}

static bool json_string(struct json_in *in)
{
	if (in->p >= in->end || *in->p != '"')
		return false;
	in->p++;
	while (in->p < in->end && *in->p != '"') {
		if (*in->p < 0x20)
			return false;
		if (*in->p != '\\') {
			if (!json_utf8(in))
				return false;
			continue;
		}
		if (++in->p >= in->end)
			return false;
		if (*in->p == 'u') {
			if (in->end - in->p < 5)
				return false;
			for (int i = 1; i <= 4; i++)
				if (!strchr("0123456789abcdefABCDEF", in->p[i]) || !in->p[i])
					return false;
			in->p += 5;
		} else if (*in->p && strchr("\"\\/bfnrt", *in->p)) {
			in->p++;
		} else {
			return false;
		}
	}
	if (in->p >= in->end)
		return false;
	in->p++;
	return true;
}

static bool json_digits(struct json_in *in)
{
	const unsigned char *start = in->p;

	while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
		in->p++;
	return in->p > start;
}

static bool json_number(struct json_in *in)
{
	if (in->p < in->end && *in->p == '-')
		in->p++;
	if (in->p < in->end && *in->p == '0')
		in->p++;
	else if (!json_digits(in))
		return false;
	if (in->p < in->end && *in->p == '.' && (in->p++, !json_digits(in)))
		return false;
	if (in->p < in->end && (*in->p == 'e' || *in->p == 'E')) {
		in->p++;
		if (in->p < in->end && (*in->p == '+' || *in->p == '-'))
			in->p++;
		if (!json_digits(in))
			return false;
	}
	return true;
}

/* An object (close '}') or an array (close ']'), after its opening bracket. */
static bool json_container(struct json_in *in, char close)
{
	bool ok = true;

	if (++in->depth > 1024) /* show nests 2 levels per message, messages up to 100 */
		return false;
	json_ws(in);
	if (in->p < in->end && *in->p == close) {
		in->p++;
		in->depth--;
		return true;
	}
	for (;;) {
		if (close == '}') {
			json_ws(in);
			if (!json_string(in))
				return false;
			json_ws(in);
			if (in->p >= in->end || *in->p++ != ':')
				return false;
		}
		ok = json_value(in);
		if (!ok)
			return false;
		json_ws(in);
		if (in->p >= in->end)
			return false;
		if (*in->p == ',') {
			in->p++;
			continue;
		}
		if (*in->p++ != close)
			return false;
		in->depth--;
		return true;
	}
}

static bool json_value(struct json_in *in)
{
	json_ws(in);
	if (in->p >= in->end)
		return false;
	switch (*in->p) {
	case '{':
		in->p++;
		return json_container(in, '}');
	case '[':
		in->p++;
		return json_container(in, ']');
	case '"':
		return json_string(in);
	case 't':
		return json_lit(in, "true");
	case 'f':
		return json_lit(in, "false");
	case 'n':
		return json_lit(in, "null");
	default:
		return json_number(in);
	}
}

static bool json_valid(const char *text, size_t len)
{
	struct json_in in = { (const unsigned char *)text, (const unsigned char *)text + len, 0 };

	if (!json_value(&in))
		return false;
	json_ws(&in);
	return in.p == in.end;
}

#endif
