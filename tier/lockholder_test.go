package tier

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The lock holder that dies runs in a process of its own, started from
// the test binary and killed with SIGKILL while its loader runs.
const (
	holderEnv      = "TIER_TEST_HOLDER_KEY"
	holderAddrsEnv = "TIER_TEST_HOLDER_ADDRS"
	holderLockTTL  = 600 * time.Millisecond
)

func holdLockAndHang() {
	cfg := testConfig(backend{addrs: strings.Split(os.Getenv(holderAddrsEnv), ",")})
	cfg.LockTTL = holderLockTTL
	tr, err := New(cfg)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	_, _ = tr.GetOrLoad(context.Background(), nil, []byte(os.Getenv(holderEnv)), func(context.Context, []byte) ([]byte, time.Duration, error) {
		fmt.Println("loading")
		select {} // until killed
	})
}

func TestALockWhoseHolderDiedExpires(t *testing.T) {
	onEachBackend(t, func(t *testing.T, b backend) {
		key := newKeys("dead-holder", 1)[0]
		child := exec.Command(os.Args[0], "-test.run=^$")
		child.Env = append(os.Environ(), holderEnv+"="+string(key), holderAddrsEnv+"="+strings.Join(b.addrs, ","))
		out, err := child.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, child.Start())
		line, err := bufio.NewReader(out).ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "loading\n", line, "the holder took the lock and runs its loader")
		held, ok := redisGet(t, b, key)
		require.True(t, ok)
		require.True(t, strings.HasPrefix(held, lockPrefix), "the key holds the holder's lock: %q", held)
		require.NoError(t, child.Process.Kill())
		_ = child.Wait()
		killed := time.Now()

		src := newSource()
		var insts []*Tier
		for range 3 {
			cfg := testConfig(b)
			cfg.LockTTL = holderLockTTL
			insts = append(insts, newTier(t, cfg))
		}
		askAtOnce(t, insts, 100, key, encodeVersion(key, 0), src.load)
		took := time.Since(killed)
		require.EqualValues(t, 1, src.loads.Load(), "one survivor loads once the dead holder's lock expires")
		t.Logf("loaded %v after the holder was killed (LockTTL %v)", took.Round(time.Millisecond), holderLockTTL)
	})
}
