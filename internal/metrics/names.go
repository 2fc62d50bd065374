package metrics

import (
	"regexp"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

// fqName reads a metric's name from its descriptor: client_golang offers no accessor, and
// its String form has carried `fqName: "..."` since the first release.
var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// Names returns the name of every series igconnect's own metrics can put on /metrics, with
// a histogram's _bucket, _sum and _count series in place of its name. It reads the
// collectors that init registers, so it cannot drift from what the manager serves.
func Names() []string {
	var names []string
	for _, c := range collectors {
		histogram := false
		switch c.(type) {
		case *prometheus.HistogramVec, prometheus.Histogram:
			histogram = true
		}
		ch := make(chan *prometheus.Desc, 1)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			m := fqName.FindStringSubmatch(d.String())
			if m == nil {
				continue
			}
			if histogram {
				names = append(names, m[1]+"_bucket", m[1]+"_sum", m[1]+"_count")
				continue
			}
			names = append(names, m[1])
		}
	}
	sort.Strings(names)
	return names
}
