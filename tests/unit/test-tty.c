/* Terminals: the device classes, the ids of tty-info.img, its checks (core/files/tty.c). */
#include <sys/sysmacros.h>

#include "../files/tty.h"
#include "unit.h"

TEST(classes)
{
	CHECK_EQ(tty_class_of(5, 0), TTY_CLASS_CTTY);
	CHECK_EQ(tty_class_of(5, 1), TTY_CLASS_CONSOLE);
	CHECK_EQ(tty_class_of(5, 2), TTY_CLASS_PTMX);
	CHECK_EQ(tty_class_of(5, 3), TTY_CLASS_NONE);
	CHECK_EQ(tty_class_of(128, 7), TTY_CLASS_PTMX);
	CHECK_EQ(tty_class_of(136, 0), TTY_CLASS_PTS);
	CHECK_EQ(tty_class_of(143, 255), TTY_CLASS_PTS);
	CHECK_EQ(tty_class_of(144, 0), TTY_CLASS_NONE);
	CHECK_EQ(tty_class_of(4, 1), TTY_CLASS_VT);
	CHECK_EQ(tty_class_of(4, 64), TTY_CLASS_SERIAL);
	CHECK_EQ(tty_class_of(188, 0), TTY_CLASS_SERIAL);
	CHECK_EQ(tty_class_of(3, 0), TTY_CLASS_OTHER);
	CHECK_EQ(tty_class_of(1, 3), TTY_CLASS_NONE); /* /dev/null */
	CHECK_STR(tty_class_name(TTY_CLASS_PTMX), "a pty master");
}

TEST(ids)
{
	CHECK_EQ(tty_pts_index(136, 5), 5);
	CHECK_EQ(tty_pts_index(137, 5), 261);
	/* upstream's numbering: index * 2, plus one for the master */
	CHECK_EQ(tty_info_id(TTY_CLASS_PTMX, 3), 7);
	CHECK_EQ(tty_info_id(TTY_CLASS_PTS, 3), 6);
	CHECK_EQ(tty_info_id(TTY_CLASS_CONSOLE, 0), 2004);
	CHECK_EQ(tty_info_id(TTY_CLASS_CTTY, 0), 2012);
	CHECK_EQ(tty_info_id(TTY_CLASS_VT, 0), 0);
}

static uint32_t cc[TTY_TERMIOS_NCC];
static TermiosEntry termios, locked;
static TtyPtyEntry pty;
static TtyInfoEntry ie;

/* a master entry restore takes: pty 3 */
static TtyInfoEntry *master(void)
{
	tty_info_entry__init(&ie);
	termios_entry__init(&termios);
	termios_entry__init(&locked);
	tty_pty_entry__init(&pty);
	memset(cc, 0, sizeof(cc));
	cc[0] = 3;
	termios.n_c_cc = locked.n_c_cc = TTY_TERMIOS_NCC;
	termios.c_cc = cc;
	locked.c_cc = cc + 1; /* all zero but its last, set only where a test says */
	locked.n_c_cc = TTY_TERMIOS_NCC - 1;
	termios.c_lflag = 0x8a3b;
	pty.index = 3;
	ie.id = 7;
	ie.type = TTY_TYPE__PTY;
	ie.rdev = (uint32_t)makedev(5, 2);
	ie.pty = &pty;
	ie.termios = &termios;
	ie.termios_locked = &locked;
	ie.packet_mode = true;
	ie.locked = true;
	return &ie;
}

TEST(info_valid)
{
	CHECK(!tty_info_invalid(master()));
	/* the slave of pty 3 */
	master()->id = 6;
	ie.rdev = (uint32_t)makedev(136, 3);
	ie.packet_mode = ie.locked = false;
	CHECK(!tty_info_invalid(&ie));
	/* a slave that is too big an index or lives on 137 */
	master()->id = 2 * 300;
	ie.rdev = (uint32_t)makedev(137, 300 - 256);
	ie.packet_mode = ie.locked = false;
	pty.index = 300;
	CHECK(!tty_info_invalid(&ie));
	/* the console and /dev/tty have no index */
	master()->pty = NULL;
	ie.type = TTY_TYPE__CONSOLE;
	ie.rdev = (uint32_t)makedev(5, 1);
	ie.id = 2004;
	CHECK(!tty_info_invalid(&ie));
	ie.type = TTY_TYPE__CTTY;
	ie.rdev = (uint32_t)makedev(5, 0);
	CHECK(!tty_info_invalid(&ie));
}

TEST(info_invalid)
{
	master()->id = 6; /* a master's id must be odd */
	CHECK(tty_info_invalid(&ie));
	master()->pty = NULL;
	CHECK(tty_info_invalid(&ie));
	master()->rdev = (uint32_t)makedev(1, 3);
	CHECK(tty_info_invalid(&ie));
	master()->pty->index = 1001;
	ie.id = 2003;
	CHECK(tty_info_invalid(&ie));
	/* a slave in packet mode */
	master()->id = 6;
	ie.rdev = (uint32_t)makedev(136, 3);
	ie.locked = false;
	CHECK(tty_info_invalid(&ie));
	master()->termios->n_c_cc = 5;
	CHECK(tty_info_invalid(&ie));
	master()->termios->n_c_cc = 1000;
	CHECK(tty_info_invalid(&ie));
	master();
	cc[TTY_TERMIOS_NCC - 1] = 1; /* a locked control character */
	CHECK(tty_info_invalid(&ie));
	master()->termios_locked->c_iflag = 1;
	CHECK(tty_info_invalid(&ie));
	master()->type = TTY_TYPE__VT;
	CHECK(tty_info_invalid(&ie));
	master()->type = (TtyType)77;
	CHECK(tty_info_invalid(&ie));
	/* a console with an index, a /dev/tty on the console's device */
	master()->type = TTY_TYPE__CONSOLE;
	ie.rdev = (uint32_t)makedev(5, 1);
	CHECK(tty_info_invalid(&ie));
	master()->pty = NULL;
	ie.type = TTY_TYPE__CTTY;
	ie.rdev = (uint32_t)makedev(5, 1);
	CHECK(tty_info_invalid(&ie));
}

UNIT_MAIN()
