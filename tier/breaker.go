package tier

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/redis/rueidis"
	"github.com/sony/gobreaker/v2"
)

// breaker guards the calls to Redis: it counts their failures, and while
// it is open it refuses them at once so that a Redis that is down or
// overloaded is not hammered by every request.
type breaker struct {
	cfg        Breaker
	cb         atomic.Pointer[gobreaker.TwoStepCircuitBreaker[struct{}]]
	opens      atomic.Uint64
	rejections atomic.Uint64
	failures   atomic.Uint64
}

func newBreaker(cfg Breaker) *breaker {
	b := &breaker{cfg: cfg}
	b.reset()
	return b
}

// reset closes the breaker: the heartbeat heard every node answer, which
// says more of Redis than a probe after the breaker's backoff would.
func (b *breaker) reset() {
	failures := uint32(b.cfg.Failures)
	b.cb.Store(gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "redis",
		MaxRequests: 1,
		Timeout:     b.cfg.Backoff,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		OnStateChange: func(_ string, _, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				b.opens.Add(1)
			}
		},
	}))
}

// allow asks to call Redis. When the breaker refuses, it returns an error
// wrapping ErrUnavailable; otherwise done must be called with the call's
// outcome and the caller's own context (not one with the tier's timeout).
func (b *breaker) allow() (done func(ctx context.Context, err error), err error) {
	report, err := b.cb.Load().Allow()
	if err != nil {
		b.rejections.Add(1)
		return nil, fmt.Errorf("%w: circuit breaker: %v", ErrUnavailable, err)
	}
	return func(ctx context.Context, err error) {
		// A call the caller gave up on says nothing of Redis; it is
		// reported as a success so that a half-open probe is not left
		// pending.
		if isFailure(err) && ctx.Err() == nil {
			b.failures.Add(1)
			report(err)
			return
		}
		report(nil)
	}, nil
}

// isFailure tells a Redis that could not answer from one that answered:
// a nil reply or an error reply (a script's WRONGTYPE, say) is an answer.
func isFailure(err error) bool {
	if err == nil || rueidis.IsRedisNil(err) {
		return false
	}
	var re *rueidis.RedisError
	if errors.As(err, &re) {
		// The cluster moving or a server still loading its data is an
		// outage of that node, not an answer.
		return re.IsClusterDown() || re.IsTryAgain() || re.IsLoading()
	}
	return !errors.Is(err, context.Canceled)
}

// unavailable wraps a Redis failure in ErrUnavailable.
func unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}
