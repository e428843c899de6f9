package cutover

import "context"

// Send appends a command for cutover id to j on behalf of actor, with the
// reason given; stage names the stage an approval is for (empty: the next
// PNR). It retries a lost race on the sequence number a bounded number of
// times. A runner driving the cutover obeys it within one poll interval.
func Send(ctx context.Context, j Journal, id string, cmd Command, actor, reason, stage string) error {
	panic("not implemented")
}

// Remember journals key=value for the stage being applied or reverted; ctx
// must be the one the runner passed to Apply or Revert. A resumed runner
// sees it through Recall.
func Remember(ctx context.Context, key, value string) error {
	panic("not implemented")
}

// Recall returns what the current stage remembered under key, if anything.
func Recall(ctx context.Context, key string) (string, bool) {
	panic("not implemented")
}
