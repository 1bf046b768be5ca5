package evidence

import (
	"math"
	"time"
)

// Percentiles come from fixed logarithmic buckets: 1 ms to about three
// years in steps of 5%, so that any number of samples takes the same
// memory and a percentile is off by at most 5%.
const (
	histMin    = 0.001 // seconds
	histGrowth = 1.05
	histSize   = 520
)

// chartEdges are the upper bounds (seconds) of the bars of a chart; the
// last bar takes everything longer.
var chartEdges = []float64{1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}

// chartLabels name the bars of a chart.
var chartLabels = []string{"≤1s", "1–2s", "2–5s", "5–10s", "10–30s", "30–60s", "1–2m", "2–5m", "5–10m", "10–30m", "30–60m", ">1h"}

// histogram is a distribution of durations in constant memory.
type histogram struct {
	buckets [histSize + 1]int64 // [0] holds ≤ histMin
	bars    [12]int64
	n       int64
	max     float64
}

// add records one duration in seconds (negative ones, clock skew, count as 0).
func (h *histogram) add(seconds float64) {
	seconds = max(seconds, 0)
	h.n++
	h.max = max(h.max, seconds)
	h.buckets[bucketOf(seconds)]++
	bar := len(chartEdges)
	for i, e := range chartEdges {
		if seconds <= e {
			bar = i
			break
		}
	}
	h.bars[bar]++
}

func bucketOf(seconds float64) int {
	if seconds <= histMin {
		return 0
	}
	i := int(math.Ceil(math.Log(seconds/histMin) / math.Log(histGrowth)))
	return min(max(i, 1), histSize)
}

// upper is the upper bound of bucket i in seconds.
func upper(i int) float64 { return histMin * math.Pow(histGrowth, float64(i)) }

// quantile returns the q-quantile (0 < q ≤ 1): the upper bound of the
// bucket holding it, never more than the maximum.
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for i, c := range h.buckets {
		seen += c
		if seen >= rank {
			return min(upper(i), h.max)
		}
	}
	return h.max
}

// summary is what the report prints of a distribution.
type summary struct {
	N             int64
	P50, P95, Max string
	Chart         chart
}

func (h *histogram) summary(title string) summary {
	return summary{
		N: h.n, P50: formatSeconds(h.quantile(0.5)), P95: formatSeconds(h.quantile(0.95)), Max: formatSeconds(h.max),
		Chart: newChart(title, h.bars[:]),
	}
}

// formatSeconds renders a duration for people: "0.4 s", "12 s", "3m20s".
func formatSeconds(s float64) string {
	switch {
	case s < 10:
		return formatFixed(s, 1) + " s"
	case s < 120:
		return formatFixed(math.Round(s), 0) + " s"
	}
	return time.Duration(math.Round(s) * float64(time.Second)).String()
}
