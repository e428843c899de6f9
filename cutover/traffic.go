package cutover

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// DataTraffic is the key under which stages journal the traffic they set
// (see NoteTraffic), so that a report drawn from the journal alone can
// show how traffic moved.
const DataTraffic = "traffic"

// NoteTraffic journals, for the stage being applied or reverted, the share
// of traffic in percent by target that the stage has just set, e.g.
// {"blue": 90, "green": 10}. The canary, bluegreen and rolling strategies
// call it after every change they make; user stages that move traffic
// should too.
//
// Outside a stage's Apply or Revert (a stage called directly, in a test)
// it does nothing and returns nil. Otherwise it returns the journal's
// error, which the strategies ignore: the note is for people, and the
// runner finds a broken journal at its next append.
func NoteTraffic(ctx context.Context, weights map[string]int) error {
	if h, _ := ctx.Value(stageKey{}).(*stageHandle); h == nil {
		return nil
	}
	text, err := trafficText(weights)
	if err != nil {
		return fmt.Errorf("note traffic: %w", err)
	}
	return Remember(ctx, DataTraffic, text)
}

// trafficText returns weights as JSON, keys sorted: the same weights, the
// same text, exactly as encoding/json writes them. Target names that JSON
// writes as they are (printable ASCII but for the quote, the backslash
// and the characters encoding/json escapes for HTML) are written here
// directly, as every strategy notes traffic at every step; others go
// through encoding/json.
func trafficText(weights map[string]int) (string, error) {
	var buf [8]string
	keys := buf[:0]
	n := 2
	for k := range weights {
		for i := 0; i < len(k); i++ {
			if c := k[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				b, err := json.Marshal(weights)
				return string(b), err
			}
		}
		keys = append(keys, k)
		n += len(k) + 8
	}
	slices.Sort(keys)
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, int64(weights[k]), 10)
	}
	b = append(b, '}')
	return string(b), nil
}

// ParseTraffic returns the weights in a value NoteTraffic journaled.
func ParseTraffic(value string) (map[string]int, error) {
	var w map[string]int
	if err := json.Unmarshal([]byte(value), &w); err != nil {
		return nil, fmt.Errorf("traffic %q: %w", value, err)
	}
	for t, p := range w {
		if p < 0 || p > 100 {
			return nil, fmt.Errorf("traffic %q: target %q: weight %d outside 0–100", value, t, p)
		}
	}
	return w, nil
}
