package notify_test

import (
	"context"
	"fmt"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/notify"
)

// A notifier is the runner's Observer: it sends the events it is
// configured for (by default, those a person may act on and the ends of a
// cutover) without ever making the runner wait.
func Example() {
	print := notify.SenderFunc(func(_ context.Context, m notify.Message) error {
		fmt.Println(m.Summary())
		return nil
	})
	n, err := notify.New(print, notify.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	stage := cutover.Stage{
		Name:   "green 10%",
		Apply:  func(context.Context) error { return nil },
		Revert: func(context.Context) error { return nil },
		Bake:   10 * time.Millisecond,
	}
	r := cutover.MustNewRunner(cutover.NewMemJournal(), cutover.RunnerOptions{Actor: "ci", PollInterval: time.Millisecond, Observer: n})
	if _, err := r.Run(context.Background(), "web-42", cutover.Plan{Name: "web", Stages: []cutover.Stage{stage}}); err != nil {
		fmt.Println(err)
	}
	fmt.Println(n.Close(context.Background()), n.Sent(), n.Dropped())
	// Output:
	// cutover web-42: completed
	// <nil> 1 0
}
