/* The file mode creation mask stays set. */
#include "lib.h"

#include <fcntl.h>
#include <sys/stat.h>

TEST("umask 027, and new files get mode 0640");

int main(int argc, char **argv)
{
	test_init(argc, argv);
	umask(027);
	test_ready();
	test_wait();
	mode_t now = umask(027);
	if (now != 027)
		fail("umask is %03o, want 027", now);
	unlink("umask-file");
	int fd = open("umask-file", O_CREAT | O_WRONLY, 0666);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		fail("cannot create umask-file: %s", strerror(errno));
	else if ((st.st_mode & 0777) != 0640)
		fail("a new file has mode %03o, want 0640", st.st_mode & 0777);
	test_done();
}
