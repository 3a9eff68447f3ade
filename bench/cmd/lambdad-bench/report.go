package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// report collects the rows printed at the end of a run.
type report struct {
	lines []string
	notes []string
}

func (r *report) section(title string) { r.lines = append(r.lines, "\n## "+title) }

// row adds a measured row: n, p50, p99 and req/s come from res.
func (r *report) row(name string, res *result, ratio, target, met string) {
	if res == nil {
		r.lines = append(r.lines, name+"\t(not measured)")
		return
	}
	rps := "-"
	if res.elapsed > 0 {
		rps = fmt.Sprintf("%.0f", res.rps())
	}
	l := fmt.Sprintf("%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s", name, len(res.lat), ms(res.lat.p50()), ms(res.lat.p99()), rps, ratio, target, met)
	if res.errs > 0 {
		l += fmt.Sprintf("\t(%d errors)", res.errs)
	}
	if res.extra != "" {
		l += "\t" + res.extra
	}
	r.lines = append(r.lines, l)
}

// line adds a row that is not a latency distribution.
func (r *report) line(name, detail, ratio, target, met string) {
	r.lines = append(r.lines, fmt.Sprintf("%s\t-\t-\t-\t-\t%s\t%s\t%s\t%s", name, ratio, target, met, detail))
}

func (r *report) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func (r *report) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nmeasurement\tn\tp50 ms\tp99 ms\treq/s\tratio\ttarget\tmet\tnotes")
	for _, l := range r.lines {
		if strings.HasPrefix(l, "\n## ") {
			tw.Flush()
			fmt.Fprintln(w, l)
			continue
		}
		fmt.Fprintln(tw, l)
	}
	tw.Flush()
	for _, n := range r.notes {
		fmt.Fprintln(w, "note:", n)
	}
}

func p50(r *result) float64 {
	if r == nil {
		return 0
	}
	return float64(r.lat.p50())
}

func ratio[T float64 | time.Duration](a, b T) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT MET"
}
