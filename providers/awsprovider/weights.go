package awsprovider

import (
	"fmt"
	"sort"
	"strings"

	"github.com/safecutover/safecutover/providers"
)

// percentages converts relative weights (an ALB forward action's 0–999, a
// Route 53 record's 0–255) to whole percentages. Traffic is split in
// proportion to the weights, so the conversion is exact or an error: weights
// whose shares are not whole percentages (1:2) are reported as they are,
// never rounded into a figure that would not match what the service does.
func percentages(raw map[string]int64) (providers.Weights, error) {
	var sum int64
	for _, v := range raw {
		if v < 0 {
			return nil, fmt.Errorf("negative weight in %s", rawString(raw))
		}
		sum += v
	}
	if sum == 0 {
		return nil, fmt.Errorf("every weight is 0 (%s): no target receives a share", rawString(raw))
	}
	out := make(providers.Weights, len(raw))
	for t, v := range raw {
		if v*100%sum != 0 {
			return nil, fmt.Errorf("weights %s are not whole percentages", rawString(raw))
		}
		out[t] = int(v * 100 / sum)
	}
	return out, nil
}

// checkWeights validates w and that every target in it is known. It
// returns the weight of every known target (0 for those w leaves out).
func checkWeights(w providers.Weights, known []string) (map[string]int, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	out := make(map[string]int, len(known))
	for _, k := range known {
		out[k] = 0
	}
	for _, t := range w.Targets() {
		if _, ok := out[t]; !ok {
			return nil, fmt.Errorf("weights: unknown target %q (known: %s)", t, strings.Join(known, ", "))
		}
		out[t] = w[t]
	}
	return out, nil
}

func rawString(raw map[string]int64) string {
	var b strings.Builder
	for i, k := range sortedKeys(raw) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, raw[k])
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
