package singleflight

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// blocking returns a function that counts its calls and waits for release
// (or its context) before returning v.
func blocking(calls *atomic.Int32, release <-chan struct{}, v string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		calls.Add(1)
		select {
		case <-release:
			return v, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// waitInFlight waits until key has a call running with n callers.
func waitWaiters(t *testing.T, g *Group[string, string], key string, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		c, ok := g.calls[key]
		return ok && c.waiters == n
	}, 30*time.Second, time.Millisecond)
}

func TestConcurrentCallersShareOneCall(t *testing.T) {
	var g Group[string, string]
	var calls atomic.Int32
	release := make(chan struct{})
	const n = 100
	var wg sync.WaitGroup
	results := make(chan string, n)
	sharedCount := atomic.Int32{}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, shared, err := g.Do(context.Background(), "k", blocking(&calls, release, "value"))
			require.NoError(t, err)
			if shared {
				sharedCount.Add(1)
			}
			results <- v
		}()
	}
	waitWaiters(t, &g, "k", n)
	close(release)
	wg.Wait()
	close(results)
	for v := range results {
		require.Equal(t, "value", v)
	}
	require.Equal(t, int32(1), calls.Load())
	require.Equal(t, int32(n), sharedCount.Load(), "every caller got a shared result")
	require.False(t, g.InFlight("k"))
}

func TestAWaiterGivingUpLeavesTheOthersAndTheCall(t *testing.T) {
	var g Group[string, string]
	var calls atomic.Int32
	release := make(chan struct{})
	loadCtx := make(chan context.Context, 1)
	fn := func(ctx context.Context) (string, error) {
		loadCtx <- ctx
		return blocking(&calls, release, "value")(ctx)
	}
	done := make(chan error, 1)
	go func() {
		v, _, err := g.Do(context.Background(), "k", fn)
		if err == nil && v != "value" {
			err = errors.New("wrong value " + v)
		}
		done <- err
	}()
	waitWaiters(t, &g, "k", 1)
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, _, err := g.Do(ctx, "k", fn)
		gaveUp <- err
	}()
	waitWaiters(t, &g, "k", 2)
	cancel()
	require.ErrorIs(t, <-gaveUp, context.Canceled)
	require.NoError(t, (<-loadCtx).Err(), "one waiter leaving must not cancel the load")
	close(release)
	require.NoError(t, <-done)
	require.Equal(t, int32(1), calls.Load())
}

func TestTheCallOutlivesTheFirstCallersCancellation(t *testing.T) {
	var g Group[string, string]
	var calls atomic.Int32
	release := make(chan struct{})
	type ctxKey struct{}
	var sawValue atomic.Bool
	fn := func(ctx context.Context) (string, error) {
		sawValue.Store(ctx.Value(ctxKey{}) == "request-id")
		return blocking(&calls, release, "value")(ctx)
	}
	first, cancelFirst := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "request-id"))
	firstErr := make(chan error, 1)
	go func() { _, _, err := g.Do(first, "k", fn); firstErr <- err }()
	waitWaiters(t, &g, "k", 1)
	second := make(chan string, 1)
	go func() { v, _, _ := g.Do(context.Background(), "k", fn); second <- v }()
	waitWaiters(t, &g, "k", 2)
	cancelFirst()
	require.ErrorIs(t, <-firstErr, context.Canceled)
	close(release)
	require.Equal(t, "value", <-second, "the second caller still gets the result")
	require.True(t, sawValue.Load(), "the load keeps the first caller's context values")
}

func TestTheCallIsCancelledWhenEveryWaiterHasGone(t *testing.T) {
	var g Group[string, string]
	var calls atomic.Int32
	cancelled := make(chan struct{})
	fn := func(ctx context.Context) (string, error) {
		calls.Add(1)
		<-ctx.Done()
		close(cancelled)
		return "", ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	for range 2 {
		go func() { _, _, err := g.Do(ctx, "k", fn); errs <- err }()
	}
	waitWaiters(t, &g, "k", 2)
	cancel()
	require.ErrorIs(t, <-errs, context.Canceled)
	require.ErrorIs(t, <-errs, context.Canceled)
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the load's context was not cancelled when all waiters left")
	}
	// The key is free: a new caller starts a new call.
	v, _, err := g.Do(context.Background(), "k", func(context.Context) (string, error) { return "fresh", nil })
	require.NoError(t, err)
	require.Equal(t, "fresh", v)
}

func TestPanicReachesEveryWaiterAsAnError(t *testing.T) {
	var g Group[string, string]
	release := make(chan struct{})
	fn := func(context.Context) (string, error) {
		<-release
		panic("database exploded")
	}
	errs := make(chan error, 3)
	for range 3 {
		go func() { _, _, err := g.Do(context.Background(), "k", fn); errs <- err }()
	}
	waitWaiters(t, &g, "k", 3)
	close(release)
	for range 3 {
		err := <-errs
		var pe *PanicError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "database exploded", pe.Value)
		require.Contains(t, string(pe.Stack), "group_test.go", "the stack shows where it panicked")
	}
	require.False(t, g.InFlight("k"), "a panic must not leave the key stuck")
	v, _, err := g.Do(context.Background(), "k", func(context.Context) (string, error) { return "ok", nil })
	require.NoError(t, err)
	require.Equal(t, "ok", v)
}

func TestPanicWithAnErrorUnwraps(t *testing.T) {
	var g Group[string, string]
	sentinel := errors.New("sentinel")
	_, _, err := g.Do(context.Background(), "k", func(context.Context) (string, error) { panic(sentinel) })
	require.ErrorIs(t, err, sentinel)
}

func TestGoexitReleasesTheKey(t *testing.T) {
	var g Group[string, string]
	_, _, err := g.Do(context.Background(), "k", func(context.Context) (string, error) {
		runtime.Goexit()
		return "", nil
	})
	require.ErrorIs(t, err, ErrGoexit)
	require.False(t, g.InFlight("k"))
}

func TestNilFunction(t *testing.T) {
	var g Group[string, string]
	_, _, err := g.Do(context.Background(), "k", nil)
	require.Error(t, err)
}

func TestJoiningAnInFlightCallDoesNotAllocate(t *testing.T) {
	var g Group[string, string]
	var calls atomic.Int32
	release := make(chan struct{})
	go func() { _, _, _ = g.Do(context.Background(), "k", blocking(&calls, release, "v")) }()
	waitWaiters(t, &g, "k", 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // join, then give up at once: the whole waiting path
	fn := blocking(&calls, release, "v")
	require.Zero(t, testing.AllocsPerRun(100, func() { _, _, _ = g.Do(ctx, "k", fn) }))
	close(release)
}

// After Forget, a Do starts a call of its own while the forgotten one
// runs on for its callers; later callers join the new call.
func TestForgetStartsANewCall(t *testing.T) {
	var g Group[string, string]
	var first, second atomic.Int32
	releaseFirst, releaseSecond := make(chan struct{}), make(chan struct{})
	firstDone := make(chan string)
	go func() {
		v, _, err := g.Do(context.Background(), "k", blocking(&first, releaseFirst, "old"))
		require.NoError(t, err)
		firstDone <- v
	}()
	waitWaiters(t, &g, "k", 1)
	g.Forget("k")
	require.False(t, g.InFlight("k"))

	secondDone := make(chan string, 2)
	for range 2 {
		go func() {
			v, _, err := g.Do(context.Background(), "k", blocking(&second, releaseSecond, "new"))
			require.NoError(t, err)
			secondDone <- v
		}()
	}
	waitWaiters(t, &g, "k", 2)
	close(releaseSecond)
	require.Equal(t, "new", <-secondDone)
	require.Equal(t, "new", <-secondDone)
	require.Equal(t, int32(1), second.Load(), "the callers after Forget share one new call")

	close(releaseFirst)
	require.Equal(t, "old", <-firstDone, "the forgotten call's caller gets its result")
	require.Equal(t, int32(1), first.Load())
	require.False(t, g.InFlight("k"))
	g.Forget("never called") // a key without a call: nothing happens
}
