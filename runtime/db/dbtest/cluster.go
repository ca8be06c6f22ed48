package dbtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cluster is an ephemeral PostgreSQL cluster listening only on a unix socket
// in base. A watchdog process stops it and removes base once stopW is closed,
// which also happens when the test binary dies.
type cluster struct {
	base     string
	port     int
	stopW    *os.File
	watchdog *exec.Cmd
}

// url returns the URL of database dbname on the cluster.
func (c *cluster) url(dbname string) string {
	q := url.Values{"host": {c.base}, "port": {strconv.Itoa(c.port)}, "sslmode": {"disable"}}
	return "postgres://postgres@/" + dbname + "?" + q.Encode()
}

// stop shuts the cluster down and removes its directory.
func (c *cluster) stop() error {
	if c.stopW == nil {
		return nil
	}
	_ = c.stopW.Close()
	c.stopW = nil
	if err := c.watchdog.Wait(); err != nil {
		return fmt.Errorf("watchdog: %w", err)
	}
	return nil
}

// startCluster initialises and starts a cluster from the local PostgreSQL
// binaries, as user postgres when running as root.
func startCluster(ctx context.Context) (_ *cluster, err error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	tmp := os.TempDir()
	if len(tmp) > 60 { // unix socket paths are limited to ~107 bytes
		tmp = "/tmp"
	}
	base, err := os.MkdirTemp(tmp, "exh-pg-")
	if err != nil {
		return nil, fmt.Errorf("create cluster directory: %w", err)
	}
	if cred != nil {
		if err := os.Chown(base, int(cred.Uid), int(cred.Gid)); err != nil {
			_ = os.RemoveAll(base)
			return nil, fmt.Errorf("chown cluster directory to postgres: %w", err)
		}
	}
	port, err := freePort()
	if err != nil {
		_ = os.RemoveAll(base)
		return nil, err
	}
	c := &cluster{base: base, port: port}

	// The watchdog is started first so base is removed whatever happens next.
	r, w, err := os.Pipe()
	if err != nil {
		_ = os.RemoveAll(base)
		return nil, fmt.Errorf("watchdog pipe: %w", err)
	}
	const script = `cat >/dev/null
if [ -f "$2/data/postmaster.pid" ]; then "$1/pg_ctl" -D "$2/data" -m fast -w -s stop >/dev/null 2>&1; fi
rm -rf "$2"`
	wd := exec.Command("sh", "-c", script, "sh", bin, base)
	wd.Stdin = r
	wd.Dir = base
	// Its own process group: a ^C to the tests must not kill the cleanup.
	wd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	if err := wd.Start(); err != nil {
		_ = r.Close()
		_ = w.Close()
		_ = os.RemoveAll(base)
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	_ = r.Close()
	c.stopW, c.watchdog = w, wd
	defer func() {
		if err != nil {
			_ = c.stop()
		}
	}()

	data := filepath.Join(base, "data")
	if err := run(ctx, cred, base, filepath.Join(bin, "initdb"),
		"-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		return nil, err
	}
	opts := fmt.Sprintf("-k %s -p %d -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", base, port)
	if err := run(ctx, cred, base, filepath.Join(bin, "pg_ctl"),
		"-D", data, "-l", filepath.Join(base, "server.log"), "-w", "-s", "-t", "60", "-o", opts, "start"); err != nil {
		return nil, err
	}
	return c, nil
}

func run(ctx context.Context, cred *syscall.Credential, dir, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(name), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// findBin returns the bin directory of the highest installed PostgreSQL
// version, or the directory of pg_ctl on PATH.
func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	dirs = slices.DeleteFunc(dirs, func(d string) bool {
		return !isFile(filepath.Join(d, "initdb")) || !isFile(filepath.Join(d, "pg_ctl"))
	})
	if len(dirs) > 0 {
		slices.SortFunc(dirs, func(a, b string) int {
			return compareVersions(filepath.Base(filepath.Dir(a)), filepath.Base(filepath.Dir(b)))
		})
		return dirs[len(dirs)-1], nil
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if d := filepath.Dir(p); isFile(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on PATH")
}

// compareVersions orders dotted version strings numerically ("9.6" < "15").
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// credential returns the postgres user's credential when running as root
// (initdb refuses to run as root), else nil (run as ourselves).
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and there is no postgres user to run initdb as: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres gid %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
