package fake

import (
	"errors"
	"fmt"

	"github.com/safecutover/safecutover/providers"
)

// Sentinel errors. Injected faults return ErrThrottled, ErrServer or
// ErrTimeout (or an error of the test's choosing); the others report bad
// input. Every error the fake returns is an *Error that unwraps to one of
// these (or to the context's error).
var (
	// ErrThrottled is a throttling error (AWS: ThrottlingException, HTTP 429).
	ErrThrottled = errors.New("throttled: rate exceeded")
	// ErrServer is a server-side failure (HTTP 5xx).
	ErrServer = errors.New("internal server error")
	// ErrTimeout is a request that timed out.
	ErrTimeout = errors.New("request timed out")
	// ErrNotFound names a router, switcher, fleet, target or alarm the cloud
	// does not know.
	ErrNotFound = errors.New("not found")
	// ErrInvalid is bad input: weights that do not validate, a negative
	// count, a window that ends before it starts.
	ErrInvalid = errors.New("invalid argument")
)

// Error is the error every operation of the fake returns: which operation,
// on which resource, and why. It unwraps to a sentinel above or to the
// context's error.
type Error struct {
	Op       string // operation, one of the Op constants
	Resource string // router, switcher, fleet, target or alarm name
	Err      error
}

// Error renders "fake Op Resource: cause".
func (e *Error) Error() string {
	if e.Resource == "" {
		return fmt.Sprintf("fake %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("fake %s %s: %v", e.Op, e.Resource, e.Err)
}

// Transient reports whether the cause is one that calling again may cure:
// ErrThrottled, ErrServer or ErrTimeout (an injected fault), or a cause
// providers.IsTransient accepts. ErrNotFound, ErrInvalid and a cancelled
// context are permanent.
func (e *Error) Transient() bool {
	return errors.Is(e.Err, ErrThrottled) || errors.Is(e.Err, ErrServer) || errors.Is(e.Err, ErrTimeout) ||
		providers.IsTransient(e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// invalid returns an ErrInvalid error with a message.
func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)
}

// notFound returns an ErrNotFound error naming what is missing.
func notFound(kind, name string) error {
	return fmt.Errorf("%s %q: %w", kind, name, ErrNotFound)
}
