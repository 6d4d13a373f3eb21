/* The working directory: a subdirectory the program made and moved into. */
#include "lib.h"

#include <fcntl.h>
#include <sys/stat.h>

TEST("the working directory, a subdirectory the program made");

int main(int argc, char **argv)
{
	char want[4096], now[4096];
	struct stat st_want, st_now;

	test_init(argc, argv);
	if ((mkdir("cwd.dir", 0755) < 0 && errno != EEXIST) ||
	    (mkdir("cwd.dir/inner", 0755) < 0 && errno != EEXIST) || chdir("cwd.dir/inner") < 0)
		setup_fail("cwd.dir/inner: %s", strerror(errno));
	if (write_file("marker", "here\n", 5) < 0 || !getcwd(want, sizeof(want)) || stat(".", &st_want) < 0)
		setup_fail("marker: %s", strerror(errno));
	test_ready();
	test_wait();
	if (!getcwd(now, sizeof(now)))
		fail("getcwd: %s", strerror(errno));
	else if (strcmp(now, want))
		fail("cwd is '%s', want '%s'", now, want);
	if (stat(".", &st_now) < 0 || st_now.st_ino != st_want.st_ino || st_now.st_dev != st_want.st_dev)
		fail("'.' is another directory");
	char buf[16] = "";
	if (read_text("marker", buf, sizeof(buf)) != 5 || strcmp(buf, "here\n"))
		fail("cannot read the marker through the relative path");
	test_done();
}
