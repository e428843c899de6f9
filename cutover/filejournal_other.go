//go:build !unix

package cutover

import (
	"errors"
	"os"
)

// errNoFlock: the file journal and lease need flock, which this platform
// lacks.
var errNoFlock = errors.New("file locking (flock) is not supported on this platform")

func fileTryLock(f *os.File, shared bool) (bool, error) { return false, errNoFlock }
