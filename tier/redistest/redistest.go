// Package redistest starts real redis-server processes on free loopback
// ports for the tier's tests and benchmarks: a standalone server, or a
// cluster of masters. Nothing stands in for Redis.
//
// Without redis-server on PATH, Start and Need skip the test with a
// message saying so, unless RINGCACHE_REQUIRE_REDIS=1 is set (CI sets it),
// in which case they fail it.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// RequireEnv names the variable that turns a missing redis-server from a
// skip into a failure.
const RequireEnv = "RINGCACHE_REQUIRE_REDIS"

// Server is one redis-server process listening on Addr.
type Server struct {
	Addr string
	args []string
	dir  string
	cmd  *exec.Cmd
}

// Available reports whether redis-server is on PATH.
func Available() bool {
	_, err := exec.LookPath("redis-server")
	return err == nil
}

// Need skips or fails tb when redis-server is missing (see the package
// doc).
func Need(tb testing.TB) { tb.Helper(); need(tb) }

func need(tb testing.TB) {
	tb.Helper()
	if Available() {
		return
	}
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatalf("redis-server is not on PATH and %s=1: install it (apt-get install -y redis-server)", RequireEnv)
	}
	tb.Skipf("redis-server is not on PATH: install it (apt-get install -y redis-server) to run this test; %s=1 makes this a failure", RequireEnv)
}

// Start starts a standalone server on a free loopback port with no
// persistence; tb's cleanup stops it. NewServer and NewCluster start
// servers that outlive a test, for a package's shared ones.
func Start(tb testing.TB) *Server {
	tb.Helper()
	need(tb)
	s, err := NewServer(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// NewServer starts a standalone server on a free loopback port with no
// persistence, its files in dir; extra are more redis-server arguments
// (such as "--requirepass", "secret"). The caller stops it.
func NewServer(dir string, extra ...string) (*Server, error) { return start(dir, extra...) }

// Cluster is a Redis Cluster of masters without replicas.
type Cluster struct {
	Addrs   []string
	servers []*Server
}

// NewCluster starts masters servers in cluster mode under dir, joins them
// with redis-cli --cluster create, and waits until every node reports
// the cluster ok. extra are more redis-server arguments for every node.
// The caller stops it.
func NewCluster(dir string, masters int, extra ...string) (*Cluster, error) {
	c := &Cluster{}
	for i := 0; i < masters; i++ {
		sub := filepath.Join(dir, strconv.Itoa(i))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			c.Stop()
			return nil, err
		}
		args := append([]string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"}, extra...)
		s, err := start(sub, args...)
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.servers = append(c.servers, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("redistest: redis-cli --cluster create: %w\n%s", err, out)
	}
	if err := c.WaitOK(20 * time.Second); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// WaitOK waits until every running node reports the cluster ok.
func (c *Cluster) WaitOK(within time.Duration) error {
	deadline := time.Now().Add(within)
	for _, s := range c.servers {
		if s.cmd == nil {
			continue
		}
		for {
			info, err := command(s.Addr, "CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("redistest: cluster node %s not ok after %v: %v", s.Addr, within, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// Node returns the i-th node, to Kill and Restart.
func (c *Cluster) Node(i int) *Server { return c.servers[i] }

// Stop stops every node.
func (c *Cluster) Stop() {
	for _, s := range c.servers {
		s.Stop()
	}
}

func start(dir string, extra ...string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir}
	s.args = append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}, extra...)
	return s, s.run()
}

func (s *Server) run() error {
	s.cmd = exec.Command("redis-server", s.args...)
	s.cmd.Dir = s.dir
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("redistest: starting redis-server: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		pong, err := command(s.Addr, "PING")
		var refused *rueidis.RedisError
		if err == nil && pong == "PONG" || errors.As(err, &refused) {
			return nil // an error reply (NOAUTH with requirepass) is an answer too
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("redistest: redis-server on %s did not answer PING in 10s", s.Addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Kill stops the server at once with SIGKILL, as a crash would: its
// clients see their connections break and its data is gone.
func (s *Server) Kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// Pause stops the server with SIGSTOP, as a long GC-like stall or a
// partition would look to its clients: connections stay open, commands
// are accepted by the kernel and go unanswered until Resume.
func (s *Server) Pause() error { return s.signal(syscall.SIGSTOP) }

// Resume continues a paused server with SIGCONT: it answers what was sent
// while it was stopped, in order.
func (s *Server) Resume() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig os.Signal) error {
	if s.cmd == nil || s.cmd.Process == nil {
		return errors.New("redistest: signal to a server that is not running")
	}
	return s.cmd.Process.Signal(sig)
}

// Restart starts a killed server again on the same address, empty.
func (s *Server) Restart() error {
	if s.cmd != nil {
		return errors.New("redistest: Restart of a running server")
	}
	return s.run()
}

// Stop kills the server; it is idempotent.
func (s *Server) Stop() { s.Kill() }

// command sends one command to addr on a connection of its own, within a
// second, and returns its reply as text.
func command(addr string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, ForceSingleClient: true, DisableCache: true, DisableRetry: true})
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.Do(ctx, c.B().Arbitrary(args...).Build()).ToString()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
