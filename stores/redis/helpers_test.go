package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

	goredis "github.com/redis/go-redis/v9"

	"github.com/llmroute/llmroute/stores/redis"
)

// addrEnv names the environment variable holding the address of the Redis
// these tests use; testdata/start-redis.sh starts one and prints it.
const addrEnv = "LLMROUTE_REDIS_ADDR"

// inCI reports whether the tests run in CI, where they must never skip.
func inCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// skipOrFail skips the test outside CI and fails it in CI: in CI, a test
// that cannot run is a broken pipeline, not a pass.
func skipOrFail(tb testing.TB, why string) {
	tb.Helper()
	if inCI() {
		tb.Fatalf("%s; CI is set, so this test must run", why)
	}
	tb.Skipf("%s; skipping (start one with: redis_env=$(stores/redis/testdata/start-redis.sh) && eval \"$redis_env\")", why)
}

// redisAddr returns the address of the shared test Redis.
func redisAddr(tb testing.TB) string {
	tb.Helper()
	addr := os.Getenv(addrEnv)
	if addr == "" {
		skipOrFail(tb, addrEnv+" is not set: no Redis to test against")
	}
	return addr
}

// newClient returns a client of the Redis at addr, closed at cleanup.
func newClient(tb testing.TB, addr string) *goredis.Client {
	tb.Helper()
	c := goredis.NewClient(&goredis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		// A stopped server must not make the client retry past the test's
		// patience; the Store's timeout bounds each operation anyway.
		MaxRetries: 1,
	})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// sharedClient returns a client of the shared test Redis, checked live.
func sharedClient(tb testing.TB) *goredis.Client {
	tb.Helper()
	addr := redisAddr(tb)
	c := newClient(tb, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		tb.Fatalf("%s=%s, but PING failed: %v", addrEnv, addr, err)
	}
	return c
}

// uniquePrefix returns a key prefix no other test uses, and deletes the
// keys under it at cleanup, so tests can share one Redis, also with
// other runs.
func uniquePrefix(tb testing.TB, c *goredis.Client) string {
	tb.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "llmroute-test:" + hex.EncodeToString(b) + ":"
	tb.Cleanup(func() { deleteKeys(tb, c, prefix) })
	return prefix
}

func deleteKeys(tb testing.TB, c *goredis.Client, prefix string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Logf("deleting test keys under %q: %v", prefix, err)
	}
}

func newStore(tb testing.TB, c goredis.UniversalClient, opts ...redis.Option) *redis.Store {
	tb.Helper()
	s, err := redis.New(c, opts...)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return s
}

// server is a redis-server process of the test's own, to stop, stall and
// restart.
type server struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// startServer starts a redis-server on a free loopback port. It is
// killed at cleanup.
func startServer(t *testing.T) *server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		skipOrFail(t, "redis-server is not installed")
	}
	s := &server{t: t, bin: bin, dir: t.TempDir()}
	t.Cleanup(s.stop)
	for try := 0; ; try++ {
		s.port = freePort(t)
		if err := s.start(); err == nil {
			return s
		} else if try == 2 {
			t.Fatal(err)
		}
	}
}

func (s *server) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// start runs redis-server on s.port and waits until it answers.
func (s *server) start() error {
	s.t.Helper()
	logfile := filepath.Join(s.dir, "redis.log")
	s.cmd = exec.Command(s.bin,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", logfile, "--daemonize", "no")
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	done := make(chan struct{})
	s.done = done
	go func() {
		_ = s.cmd.Wait()
		close(done)
	}()

	c := goredis.NewClient(&goredis.Options{Addr: s.addr(), ContextTimeoutEnabled: true, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		info, err := c.Info(ctx, "server").Result()
		cancel()
		// Only our process will do: the port may have been taken since.
		if err == nil && containsLine(info, "process_id:"+strconv.Itoa(s.cmd.Process.Pid)) {
			return nil
		}
		select {
		case <-done:
			log, _ := os.ReadFile(logfile)
			return fmt.Errorf("redis-server on port %d exited at start:\n%s", s.port, log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("redis-server on port %d did not answer within 5s (last error %v)", s.port, err)
		}
	}
}

// stop kills the server, if it runs, and waits for it to exit.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// signal sends sig to the running server.
func (s *server) signal(sig syscall.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal %v to redis-server: %v", sig, err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func containsLine(text, line string) bool {
	for l := range strings.Lines(text) {
		if strings.TrimRight(l, "\r\n") == line {
			return true
		}
	}
	return false
}
