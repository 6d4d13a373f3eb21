// go-criu (Debian's golang-github-checkpoint-restore-go-criu-dev) against our
// criu over swrk: the version, a dump and a restore of an e2e program with a
// notify callback that must see each point (with the root's pid where
// go-criu passes it on), and a callback failing post-dump, which must fail
// the dump and leave the process running.
//
//	go-criu-test CRIU PROG SCRATCH
//
// PROG writes its pidfile when set up and PASS to its outfile after SIGTERM.
// Prints one line per check and PASS; exits 1 on the first failure.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"time"

	criu "github.com/checkpoint-restore/go-criu/v5"
	"github.com/checkpoint-restore/go-criu/v5/rpc"
	"google.golang.org/protobuf/proto"
)

var started []int

func fail(format string, args ...interface{}) {
	fmt.Printf("FAIL: "+format+"\n", args...)
	for _, p := range started {
		syscall.Kill(p, syscall.SIGKILL)
	}
	os.Exit(1)
}

// recorder is a criu.Notify that notes each point and fails at failAt.
type recorder struct {
	points []string
	pids   []int32
	failAt string
}

func (r *recorder) note(p string, pid int32) error {
	r.points = append(r.points, p)
	r.pids = append(r.pids, pid)
	if p == r.failAt {
		return errors.New("refused by the test at " + p)
	}
	return nil
}

func (r *recorder) PreDump() error                  { return r.note("pre-dump", 0) }
func (r *recorder) PostDump() error                 { return r.note("post-dump", 0) }
func (r *recorder) PreRestore() error               { return r.note("pre-restore", 0) }
func (r *recorder) PostRestore(pid int32) error     { return r.note("post-restore", pid) }
func (r *recorder) NetworkLock() error              { return r.note("network-lock", 0) }
func (r *recorder) NetworkUnlock() error            { return r.note("network-unlock", 0) }
func (r *recorder) SetupNamespaces(pid int32) error { return r.note("setup-namespaces", pid) }
func (r *recorder) PostSetupNamespaces() error      { return r.note("post-setup-namespaces", 0) }
func (r *recorder) PostResume() error               { return r.note("post-resume", 0) }

func waitFile(path string) string {
	for i := 0; i < 2000; i++ {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return string(b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	fail("%s never appeared", path)
	return ""
}

func start(prog, dir, tag string) (*exec.Cmd, int) {
	pidfile := filepath.Join(dir, tag+".pid")
	cmd := exec.Command(prog, "--pidfile", pidfile, "--outfile", filepath.Join(dir, tag+".out"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fail("start %s: %v", prog, err)
	}
	started = append(started, cmd.Process.Pid)
	waitFile(pidfile)
	return cmd, cmd.Process.Pid
}

func imagesDir(dir, name string) *os.File {
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(path, 0700); err != nil {
		fail("mkdir %s: %v", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		fail("open %s: %v", path, err)
	}
	return f
}

func main() {
	if len(os.Args) != 4 {
		fail("usage: go-criu-test CRIU PROG SCRATCH")
	}
	criuPath, prog, dir := os.Args[1], os.Args[2], os.Args[3]
	c := criu.MakeCriu()
	c.SetCriuPath(criuPath)

	v, err := c.GetCriuVersion()
	if err != nil || v != 40201 {
		fail("GetCriuVersion: %d, %v; want 40201", v, err)
	}
	if ok, err := c.IsCriuAtLeast(31100); err != nil || !ok {
		fail("IsCriuAtLeast(31100): %v %v", ok, err)
	}
	fmt.Println("ok: version 40201")

	cmd, pid := start(prog, dir, "p")
	img := imagesDir(dir, "img")
	rec := &recorder{}
	opts := &rpc.CriuOpts{
		ImagesDirFd: proto.Int32(int32(img.Fd())),
		Pid:         proto.Int32(int32(pid)),
		LogLevel:    proto.Int32(4),
		LogFile:     proto.String("dump.log"),
	}
	if err := c.Dump(opts, rec); err != nil {
		fail("Dump: %v", err)
	}
	if st, _ := cmd.Process.Wait(); st == nil || st.Exited() {
		fail("the dumped process was not killed: %v", st)
	}
	if want := []string{"pre-dump", "post-dump"}; !reflect.DeepEqual(rec.points, want) {
		fail("dump notifications %v, want %v", rec.points, want)
	}
	fmt.Println("ok: dump, notified pre-dump and post-dump")

	rec = &recorder{}
	opts = &rpc.CriuOpts{
		ImagesDirFd: proto.Int32(int32(img.Fd())),
		LogLevel:    proto.Int32(4),
		LogFile:     proto.String("restore.log"),
	}
	if err := c.Restore(opts, rec); err != nil {
		fail("Restore: %v", err)
	}
	want := []string{"pre-restore", "setup-namespaces", "post-setup-namespaces", "post-restore",
		"post-resume"}
	if !reflect.DeepEqual(rec.points, want) {
		fail("restore notifications %v, want %v", rec.points, want)
	}
	if rec.pids[1] != int32(pid) || rec.pids[3] != int32(pid) {
		fail("setup-namespaces and post-restore carried pids %d and %d, want %d",
			rec.pids[1], rec.pids[3], pid)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		fail("the restored %d: %v", pid, err)
	}
	if out := waitFile(filepath.Join(dir, "p.out")); !strings.HasPrefix(out, "PASS") {
		fail("restored process: %s", out)
	}
	fmt.Println("ok: restore, notified every point with the pid; the process passes")

	cmd, pid = start(prog, dir, "q")
	rec = &recorder{failAt: "post-dump"}
	opts = &rpc.CriuOpts{
		ImagesDirFd: proto.Int32(int32(imagesDir(dir, "img2").Fd())),
		Pid:         proto.Int32(int32(pid)),
		LogFile:     proto.String("dump.log"),
	}
	if err := c.Dump(opts, rec); err == nil {
		fail("Dump with a notify failing post-dump succeeded")
	}
	time.Sleep(100 * time.Millisecond)
	if err := syscall.Kill(pid, 0); err != nil {
		fail("the process is gone after a dump refused at post-dump")
	}
	if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); strings.Contains(string(b), ") T ") {
		fail("the process is left stopped")
	}
	syscall.Kill(pid, syscall.SIGTERM)
	if out := waitFile(filepath.Join(dir, "q.out")); !strings.HasPrefix(out, "PASS") {
		fail("the process after the refused dump: %s", out)
	}
	cmd.Wait()
	fmt.Println("ok: a notify failing post-dump fails the dump, the process runs on")
	fmt.Println("PASS")
}
