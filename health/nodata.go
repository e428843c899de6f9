package health

import "fmt"

// or returns n, or def when n is NoDataDefault, and an error naming the
// field when n is not a NoData policy: the one check of every gate's
// NoData option.
func (n NoData) or(what string, def NoData) (NoData, error) {
	if !n.valid() {
		return 0, fmt.Errorf("%s: NoData: %d: want NoDataPending, NoDataFail or NoDataZero (0: %s)", what, int(n), def)
	}
	if n == NoDataDefault {
		return def, nil
	}
	return n, nil
}
