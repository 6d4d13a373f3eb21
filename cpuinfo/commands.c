/*
 * `criu cpuinfo dump`, `criu cpuinfo check`, and the same two steps as
 * criu dump and criu restore take them.  Exit codes: see cpuinfo.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "commands.h"
#include "cpuinfo.h"
#include "image.h"
#include "log.h"
#include "options.h"

static void cpuinfo_free(CpuinfoEntry *e)
{
	if (e)
		protobuf_c_message_free_unpacked(&e->base, NULL);
}

int cpuinfo_dump_image(int dirfd)
{
	CpuinfoEntry *e = arch_cpu_collect();
	struct cr_img *img;
	int ret, ret_close;

	if (!e)
		return -EIO;
	img = img_open(dirfd, IMG_CPUINFO, O_WRONLY | O_CREAT);
	if (!img) {
		cpuinfo_free(e);
		return -EIO;
	}
	ret = img_write_pb(img, &e->base);
	ret_close = img_close(img);
	cpuinfo_free(e);
	if (!ret)
		ret = ret_close;
	if (!ret)
		pr_info("cpuinfo: described this %s CPU in cpuinfo.img\n", arch_cpu_desc.arch);
	return ret;
}

/* Reads cpuinfo.img; -ENOENT (not logged) when the images have none. */
static int cpuinfo_read_image(int dirfd, CpuinfoEntry **e)
{
	ProtobufCMessage *m = NULL;
	struct cr_img *img;
	int ret;

	img = img_open(dirfd, IMG_CPUINFO, O_RDONLY);
	if (!img)
		return errno == ENOENT ? -ENOENT : -EIO;
	ret = img_read_one(img, &cpuinfo_entry__descriptor, &m);
	img_close(img);
	if (ret < 0)
		return ret;
	if (!m)
		return -EINVAL;
	*e = (CpuinfoEntry *)m;
	return 0;
}

/* Reads the image, describes this CPU and compares: CPUINFO_* codes. */
static int cpuinfo_check_dir(int dirfd, unsigned modes, bool as_errors, bool missing_ok)
{
	CpuinfoEntry *img = NULL, *here;
	int ret;

	ret = cpuinfo_read_image(dirfd, &img);
	if (ret == -ENOENT && missing_ok) {
		pr_warn("cpuinfo: the images have no cpuinfo.img: this CPU is not checked against "
			"the one they were dumped on\n");
		return CPUINFO_COMPATIBLE;
	}
	if (ret == -ENOENT)
		pr_err("cpuinfo: the images have no cpuinfo.img (`criu cpuinfo dump` or `criu dump` "
		       "writes one)\n");
	if (ret)
		return CPUINFO_ERROR;
	here = arch_cpu_collect();
	ret = here ? cpuinfo_verdict(&arch_cpu_desc, img, here, modes, as_errors) : CPUINFO_ERROR;
	cpuinfo_free(here);
	cpuinfo_free(img);
	return ret;
}

int cpuinfo_check_images(int dirfd, const char *cpu_cap, bool cpu_cap_given)
{
	unsigned modes;
	int ret;

	if (cpu_cap_parse(cpu_cap, cpu_cap_given, &modes))
		return -EINVAL;
	ret = cpuinfo_check_dir(dirfd, modes, true, !cpu_cap_given || modes == CPU_CAP_NONE);
	if (ret == CPUINFO_ERROR)
		return -EINVAL;
	return ret == CPUINFO_COMPATIBLE ? 0 : 1;
}

static int open_images_dir(void)
{
	const char *dir = opts.images_dir ? opts.images_dir : ".";
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		pr_perror("cpuinfo: can't open the images directory %s", dir);
	return fd;
}

int cmd_cpuinfo_dump(void)
{
	int dirfd = open_images_dir(), ret;

	if (dirfd < 0)
		return 1;
	ret = cpuinfo_dump_image(dirfd);
	close(dirfd);
	return ret ? 1 : 0;
}

int cmd_cpuinfo_check(void)
{
	unsigned modes;
	int dirfd, ret;

	if (cpu_cap_parse(opts.cpu_cap, opts.cpu_cap_given, &modes))
		return CPUINFO_ERROR;
	dirfd = open_images_dir();
	if (dirfd < 0)
		return CPUINFO_ERROR;
	ret = cpuinfo_check_dir(dirfd, modes, false, false);
	close(dirfd);
	return ret;
}
