package main

import (
	"testing"
	"time"
)

func TestFormatLeftAndDuration(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		left time.Duration
		want string
	}{
		{-time.Second, "ended"}, {0, "ended"}, {12 * time.Second, "12s"}, {4*time.Minute + 30*time.Second, "4m30s"},
		{59*time.Minute + 59*time.Second, "59m59s"}, {2 * time.Hour, "2h"}, {2*time.Hour - 30*time.Second, "2h"},
		{time.Hour + 59*time.Minute + 10*time.Second, "1h59m"}, {26 * time.Hour, "26h"},
	} {
		if got := formatLeft(now.Add(c.left), now); got != c.want {
			t.Errorf("formatLeft(%s) = %q, want %q", c.left, got, c.want)
		}
	}
	for in, want := range map[jsonText]string{"4h0m0s": "4h", "1h30m0s": "1h30m", "90m": "1h30m", "90s": "1m30s", "2h": "2h", "soon": "soon", "": ""} {
		if got := formatDuration(in); got != want {
			t.Errorf("formatDuration(%q) = %q, want %q", in, got, want)
		}
	}
}
