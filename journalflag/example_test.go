package journalflag_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/journalflag"
)

// A directory opens a file journal and its lease; dynamodb:TABLE would
// open the DynamoDB journal and lease in TABLE the same way.
func Example() {
	dir, _ := os.MkdirTemp("", "journal")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	if _, err := journalflag.Parse("dynamodb:", journalflag.Options{}); err != nil {
		fmt.Println(err)
	}
	store, err := journalflag.Open(ctx, filepath.Join(dir, "cutovers"), journalflag.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	lease, err := store.Lease(cutover.RealClock{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(lease.Acquire(ctx, "release-42", "me", time.Minute))
	r := cutover.MustNewRunner(store.Journal, cutover.RunnerOptions{Lease: lease})
	fmt.Println(r != nil)
	// Output:
	// -journal: "dynamodb:": names no table; want dynamodb:TABLE
	// <nil>
	// true
}
