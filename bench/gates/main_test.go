package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestRunPrintsTheSummaryLine(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-direct", "-healthy", "200", "-bad", "40", "-seed", "3"}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	re := regexp.MustCompile(`^summary: speedup_2x_vs_threshold=[0-9.]+ speedup_2x_vs_fixed_horizon=[0-9.]+ false_abort=[0-9.]+ false_abort_incident=[0-9.]+ false_abort_incident_threshold=[0-9.]+ detect_10x_median_s=[0-9]+ promote_healthy_median_s=[0-9]+$`)
	if !re.MatchString(last) {
		t.Errorf("last line %q does not have the summary's format", last)
	}
	for _, want := range []string{"C sequential judge             10x", "wald: judge mean", "tolerance=0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output does not contain %q:\n%s", want, out.String())
		}
	}
}

func TestEndToEndPrintsTheSummaryLine(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-healthy", "100", "-bad", "30", "-seed", "3"}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	re := regexp.MustCompile(`^summary: profiles=5 worst_false_abort=[0-9.]+ worst_false_abort_skew=[0-9.]+ promoted_2x_stalled=0 detect_2x_minute_s=[0-9]+ speedup_2x_vs_best_threshold_minute=[0-9.]+ detect_2x_persecond_s=[0-9]+ wald_ratio_end_to_end=[0-9.]+$`)
	if !re.MatchString(last) {
		t.Errorf("last line %q does not have the summary's format (or a stalled 2x canary was promoted)", last)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-healthy", "0"}, {"-alpha", "0.7"}, {"-tolerance", "-1"}, {"-nope"}} {
		if err := run(args, &bytes.Buffer{}); err == nil {
			t.Errorf("run(%q) accepted bad flags", args)
		}
	}
}

func TestMannWhitney(t *testing.T) {
	low := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	high := []float64{11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	if p := mannWhitneyGreater(high, low); p > 0.001 {
		t.Errorf("clearly greater: p = %v", p)
	}
	if p := mannWhitneyGreater(low, high); p < 0.999 {
		t.Errorf("clearly smaller: p = %v", p)
	}
	same := []float64{1, 1, 1, 1}
	if p := mannWhitneyGreater(same, same); p != 1 && (p < 0.4 || p > 1) {
		t.Errorf("all ties: p = %v", p)
	}
}
