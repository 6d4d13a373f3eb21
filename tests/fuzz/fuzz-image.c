/*
 * libFuzzer target for the image reader and `criu show`.
 *
 * Input: one selector byte, then the bytes of an image file (magic included).
 *   0xff       the file is of unknown type, as `criu show -f` meets it: it is
 *              saved as "fuzz.img" and shown, so its magic decides the type.
 *   otherwise  the file is read as type selector % IMG_TYPE_MAX: through
 *              img_from_fd and img_read_pb (with payloads) the way dump and
 *              restore read it, then saved under that type's file name (the
 *              name is what makes a raw image raw) and shown.
 * Every show runs three times: text, text with -c, JSON.  The JSON must
 * parse (strictly, UTF-8 included) whether show succeeded or not: scripts
 * read whatever was printed.  A pages-1.img of two pages sits next to the
 * file, so that -c on a pagemap has pages to dump.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image.h"
#include "log.h"
#include "options.h"
#include "show.h"

static int data_fd = -1;
static int dir_fd = -1;
static char dir_path[64];

/* ---- a strict JSON checker (RFC 8259), enough to catch what show gets wrong */

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

/* ---- the target ---------------------------------------------------------- */

/* UBSan reports are findings like any crash: stop at the first one. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

static void cleanup(void)
{
	unlinkat(dir_fd, "pages-1.img", 0);
	rmdir(dir_path);
}

static int setup(void)
{
	static unsigned char page[8192];

	data_fd = memfd_create("fuzz-image", 0);
	snprintf(dir_path, sizeof(dir_path), "/tmp/fuzz-image.XXXXXX");
	if (data_fd < 0 || !mkdtemp(dir_path))
		return -1;
	dir_fd = open(dir_path, O_RDONLY | O_DIRECTORY);
	if (dir_fd < 0)
		return -1;
	atexit(cleanup);
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (unsigned char)(i * 7 + i / 4096);
	int fd = openat(dir_fd, "pages-1.img", O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, page, sizeof(page)) != (ssize_t)sizeof(page))
		return -1;
	close(fd);
	/* Format every message the readers log, so that a bad format shows. */
	return log_init(AT_FDCWD, "/dev/null", LOG_DEBUG, 0);
}

static int load(const uint8_t *data, size_t size)
{
	if (ftruncate(data_fd, 0) || (size && pwrite(data_fd, data, size, 0) != (ssize_t)size))
		return -1;
	return lseek(data_fd, 0, SEEK_SET) < 0 ? -1 : 0;
}

static void read_as(enum img_type type)
{
	struct cr_img *img = img_from_fd(dup(data_fd), "fuzz.img", type, false);
	ProtobufCMessage *m;

	if (!img)
		return;
	if (img_descs[type].set == IMG_SET_RAW) {
		char buf[4096];

		while (img_read_raw(img, buf, sizeof(buf)) == 0)
			;
	} else {
		while (img_read_pb(img, NULL, &m) > 0) {
			int ret = 0;

			if (img_descs[type].payload_size)
				ret = img_skip_raw(img, img_descs[type].payload_size(m));
			protobuf_c_message_free_unpacked(m, NULL);
			if (ret)
				break;
		}
	}
	img_close(img);
}

static void show_one(const char *name, bool json, bool content)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int ret;

	if (!out)
		abort();
	opts.show_pages_content = content;
	ret = show_image(out, dir_fd, name, json);
	fclose(out);
	if (json && len && !json_valid(text, len)) {
		fprintf(stderr, "show --json %s (ret %d) printed invalid JSON:\n%.*s\n", name, ret,
			(int)(len > 4096 ? 4096 : len), text);
		abort();
	}
	if (!ret && !len) {
		fprintf(stderr, "show %s succeeded and printed nothing\n", name);
		abort();
	}
	free(text);
}

static void show_as(const char *name, const uint8_t *data, size_t size)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	show_one(name, false, false);
	show_one(name, false, true);
	show_one(name, true, false);
	show_one(name, true, true);
	unlinkat(dir_fd, name, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[128];

	if (data_fd < 0 && setup())
		abort();
	if (size < 1)
		return 0;
	if (data[0] == 0xff) {
		show_as("fuzz.img", data + 1, size - 1);
		return 0;
	}
	enum img_type type = data[0] % IMG_TYPE_MAX;

	if (!load(data + 1, size - 1))
		read_as(type);
	/* id 2, so that the file never is the pages-1.img beside it */
	if (img_file_name(name, sizeof(name), type, 2) > 0)
		show_as(name, data + 1, size - 1);
	return 0;
}
