package cutover_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safecutover/safecutover/cutover"
)

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		b    cutover.Backoff
		want []time.Duration // Delay(0), Delay(1), ...
	}{
		{"doubles up to the cap", cutover.Backoff{Initial: time.Second, Max: 10 * time.Second},
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}},
		{"no Max: constant", cutover.Backoff{Initial: 3 * time.Second},
			[]time.Duration{3 * time.Second, 3 * time.Second, 3 * time.Second}},
		{"Max equal to Initial", cutover.Backoff{Initial: time.Second, Max: time.Second},
			[]time.Duration{time.Second, time.Second}},
		{"zero", cutover.Backoff{}, []time.Duration{0, 0}},
		{"cap not a power of two", cutover.Backoff{Initial: 3 * time.Second, Max: 7 * time.Second},
			[]time.Duration{3 * time.Second, 6 * time.Second, 7 * time.Second, 7 * time.Second}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []time.Duration
			for n := range tt.want {
				got = append(got, tt.b.Delay(n))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("delays (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("no overflow", func(t *testing.T) {
		b := cutover.Backoff{Initial: time.Hour, Max: math.MaxInt64}
		for _, n := range []int{40, 100, 1 << 30} {
			if d := b.Delay(n); d <= 0 || d > b.Max {
				t.Errorf("Delay(%d) = %v, want in (0, Max]", n, d)
			}
		}
		if d := b.Delay(1 << 30); d != b.Max {
			t.Errorf("Delay(2^30) = %v, want the cap %v", d, b.Max)
		}
	})
}

func TestBackoffValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		b       cutover.Backoff
		wantErr string // "" for valid
	}{
		{"zero", cutover.Backoff{}, ""},
		{"full", cutover.Backoff{Initial: time.Second, Max: time.Minute, Jitter: 1}, ""},
		{"negative initial", cutover.Backoff{Initial: -1}, "Backoff.Initial: -1ns: want ≥ 0"},
		{"negative max", cutover.Backoff{Max: -1}, "Backoff.Max: -1ns: want ≥ 0"},
		{"max below initial", cutover.Backoff{Initial: 2 * time.Second, Max: time.Second}, "Backoff.Max: 1s: want ≥ Initial 2s"},
		{"jitter above 1", cutover.Backoff{Jitter: 1.5}, "Backoff.Jitter: 1.5: want 0 to 1"},
		{"jitter NaN", cutover.Backoff{Jitter: math.NaN()}, "Backoff.Jitter: NaN"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.b.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestBackoffWait: the waits follow Delay on the clock, jitter only ever
// shortens a wait (never past the cap, never below (1−Jitter)), and a
// cancelled context ends a wait at once with its cause.
func TestBackoffWait(t *testing.T) {
	t.Run("sequence", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := cutover.Backoff{Initial: time.Second, Max: 5 * time.Second}
			var got []time.Duration
			for n := range 5 {
				start := time.Now()
				if err := b.Wait(t.Context(), cutover.RealClock{}, n); err != nil {
					t.Fatal(err)
				}
				got = append(got, time.Since(start))
			}
			want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	})
	t.Run("jitter", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := cutover.Backoff{Initial: 8 * time.Second, Max: 8 * time.Second, Jitter: 0.5}
			distinct := map[time.Duration]bool{}
			for range 50 {
				start := time.Now()
				if err := b.Wait(t.Context(), nil, 3); err != nil {
					t.Fatal(err)
				}
				took := time.Since(start)
				if took < 4*time.Second || took > 8*time.Second {
					t.Fatalf("jittered wait %v, want in [4s, 8s]", took)
				}
				distinct[took] = true
			}
			if len(distinct) < 2 {
				t.Errorf("50 jittered waits took %d distinct durations: no jitter", len(distinct))
			}
		})
	})
	t.Run("cancelled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			stop := errors.New("stop")
			ctx, cancel := context.WithCancelCause(t.Context())
			go func() {
				time.Sleep(3 * time.Second)
				cancel(stop)
			}()
			start := time.Now()
			err := cutover.Backoff{Initial: time.Hour}.Wait(ctx, nil, 0)
			if !errors.Is(err, stop) || time.Since(start) != 3*time.Second {
				t.Fatalf("Wait = %v after %v, want the cause after 3s", err, time.Since(start))
			}
		})
	})
}

// poller counts the checks a Poll makes and when.
type poller struct {
	start time.Time
	at    []time.Duration
}

func (p *poller) check(done func(n int) (bool, string, error)) cutover.Check {
	p.start = time.Now()
	return func(context.Context) (bool, string, error) {
		p.at = append(p.at, time.Since(p.start))
		return done(len(p.at))
	}
}

func TestPollUntil(t *testing.T) {
	t.Run("done on the third check", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var p poller
			err := cutover.Poll{What: "x", Interval: cutover.Backoff{Initial: 2 * time.Second}, Attempts: 5}.
				Until(t.Context(), p.check(func(n int) (bool, string, error) { return n == 3, "", nil }))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]time.Duration{0, 2 * time.Second, 4 * time.Second}, p.at); diff != "" {
				t.Errorf("checks at (-want +got):\n%s", diff)
			}
		})
	})
	t.Run("attempts run out", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var p poller
			err := cutover.Poll{What: "read back weights a=1", Interval: cutover.Backoff{Initial: time.Second}, Attempts: 4}.
				Until(t.Context(), p.check(func(int) (bool, string, error) { return false, "got a=0", nil }))
			var te *cutover.WaitTimeoutError
			if !errors.Is(err, cutover.ErrWaitTimeout) || !errors.As(err, &te) || te.Attempts != 4 {
				t.Fatalf("Until = %#v, want a *WaitTimeoutError after 4 attempts", err)
			}
			if want := "read back weights a=1: got a=0 after 4 attempts: wait bound exceeded"; err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			if len(p.at) != 4 || p.at[3] != 3*time.Second {
				t.Errorf("checks at %v, want 4 checks, the last at 3s", p.at)
			}
		})
	})
	// The interval grows to its cap, and the last wait is cut short so
	// that the last check is made at the deadline, not after it.
	t.Run("timeout with a capped, growing interval", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var p poller
			err := cutover.Poll{What: "w", Interval: cutover.Backoff{Initial: time.Second, Max: 4 * time.Second}, Timeout: 20 * time.Second}.
				Until(t.Context(), p.check(func(int) (bool, string, error) { return false, "still PENDING", nil }))
			if !errors.Is(err, cutover.ErrWaitTimeout) || !strings.Contains(err.Error(), "w: still PENDING after 20s") {
				t.Fatalf("Until = %v, want ErrWaitTimeout after 20s", err)
			}
			s := time.Second
			want := []time.Duration{0, 1 * s, 3 * s, 7 * s, 11 * s, 15 * s, 19 * s, 20 * s}
			if diff := cmp.Diff(want, p.at); diff != "" {
				t.Errorf("checks at (-want +got):\n%s", diff)
			}
		})
	})
	t.Run("Within a bound already passed: one look", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			for _, d := range []time.Duration{0, -time.Minute} {
				var p poller
				err := cutover.Poll{What: "w", Interval: cutover.Backoff{Initial: time.Second}}.Within(d).
					Until(t.Context(), p.check(func(int) (bool, string, error) { return false, "late", nil }))
				if !errors.Is(err, cutover.ErrWaitTimeout) || len(p.at) != 1 || p.at[0] != 0 {
					t.Errorf("Within(%v): %v after checks at %v, want ErrWaitTimeout after one check at once", d, err, p.at)
				}
			}
			var p poller
			err := cutover.Poll{Interval: cutover.Backoff{Initial: time.Second}}.Within(3*time.Second).
				Until(t.Context(), p.check(func(int) (bool, string, error) { return false, "", nil }))
			if !errors.Is(err, cutover.ErrWaitTimeout) || len(p.at) != 4 {
				t.Errorf("Within(3s): %v after checks at %v, want 4 checks", err, p.at)
			}
		})
	})
	t.Run("error not retried", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			boom := errors.New("access denied")
			var p poller
			err := cutover.Poll{Interval: cutover.Backoff{Initial: time.Second}, Attempts: 5, Retry: func(err error) bool { return false }}.
				Until(t.Context(), p.check(func(int) (bool, string, error) { return false, "", boom }))
			if err != boom || len(p.at) != 1 {
				t.Fatalf("Until = %v after %d checks, want the check's own error after 1", err, len(p.at))
			}
		})
	})
	t.Run("retried error kept", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			throttled := errors.New("throttled")
			var p poller
			err := cutover.Poll{What: "w", Interval: cutover.Backoff{Initial: time.Second}, Attempts: 3, Retry: func(err error) bool { return err == throttled }}.
				Until(t.Context(), p.check(func(int) (bool, string, error) { return false, "", throttled }))
			if !errors.Is(err, cutover.ErrWaitTimeout) || !errors.Is(err, throttled) || len(p.at) != 3 {
				t.Fatalf("Until = %v after %d checks, want ErrWaitTimeout and the last error after 3", err, len(p.at))
			}
			if !strings.Contains(err.Error(), "w: error: throttled after 3 attempts") {
				t.Errorf("error %q does not say what the last check saw", err)
			}
		})
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			stop := errors.New("operator stop")
			ctx, cancel := context.WithCancelCause(t.Context())
			go func() {
				time.Sleep(90 * time.Second)
				cancel(stop)
			}()
			var p poller
			err := cutover.Poll{What: "w", Interval: cutover.Backoff{Initial: time.Minute}, Timeout: time.Hour}.
				Until(ctx, p.check(func(int) (bool, string, error) { return false, "still 0 of 2", nil }))
			if !errors.Is(err, stop) || errors.Is(err, cutover.ErrWaitTimeout) || !strings.Contains(err.Error(), "still 0 of 2") {
				t.Fatalf("Until = %v, want the cause with the last status", err)
			}
			if took := time.Since(p.start); took != 90*time.Second {
				t.Errorf("returned after %v, want 90s (at the cancellation)", took)
			}
		})
	})
}

func TestPollValidate(t *testing.T) {
	t.Parallel()
	every := cutover.Backoff{Initial: time.Second}
	for _, tt := range []struct {
		name    string
		p       cutover.Poll
		wantErr string
	}{
		{"no bound", cutover.Poll{Interval: every}, "Poll.Timeout and Poll.Attempts: both 0"},
		{"no interval", cutover.Poll{Attempts: 3}, "Poll.Interval.Initial: 0s: want > 0"},
		{"negative timeout", cutover.Poll{Interval: every, Timeout: -time.Second}, "Poll.Timeout: -1s: want ≥ 0"},
		{"negative attempts", cutover.Poll{Interval: every, Attempts: -1}, "Poll.Attempts: -1: want ≥ 0"},
		{"bad backoff", cutover.Poll{Interval: cutover.Backoff{Initial: time.Second, Jitter: 2}, Attempts: 1}, "Poll.Interval: Backoff.Jitter: 2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			err := tt.p.Until(context.Background(), func(context.Context) (bool, string, error) {
				called = true
				return true, "", nil
			})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || called {
				t.Fatalf("Until = %v (check called: %v), want %q without a check", err, called, tt.wantErr)
			}
		})
	}
}
