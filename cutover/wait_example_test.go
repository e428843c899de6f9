package cutover_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/safecutover/safecutover/cutover"
)

// A Poll waits, bounded, for something a stage changed to show; its
// timeout error says what it waited for and what it saw last.
func ExamplePoll_Until() {
	clock, err := cutover.NewScaledClock(time.Time{}, 1000) // a second a millisecond
	if err != nil {
		fmt.Println(err)
		return
	}
	healthy := 0
	check := func(context.Context) (bool, string, error) {
		healthy++ // one more instance healthy at each look
		return healthy >= 3, fmt.Sprintf("%d of 3 healthy", healthy), nil
	}
	p := cutover.Poll{What: "wait for 3 healthy", Interval: cutover.Backoff{Initial: time.Second}, Attempts: 5, Clock: clock}
	fmt.Println(p.Until(context.Background(), check), healthy)

	healthy = -10 // too far behind for 5 looks
	err = p.Until(context.Background(), check)
	fmt.Println(err)
	fmt.Println(errors.Is(err, cutover.ErrWaitTimeout))
	// Output:
	// <nil> 3
	// wait for 3 healthy: -5 of 3 healthy after 5 attempts: wait bound exceeded
	// true
}

// Backoff doubles up to its cap.
func ExampleBackoff_Delay() {
	b := cutover.Backoff{Initial: time.Second, Max: 30 * time.Second}
	for n := range 7 {
		fmt.Print(b.Delay(n), " ")
	}
	fmt.Println()
	// Output: 1s 2s 4s 8s 16s 30s 30s
}
