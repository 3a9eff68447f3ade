package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// warm measures floors A and B and the warm invokes, interleaved round by
// round so that load from other tenants hits every target alike.
func (b *bench) warm(ctx context.Context, rep *report) error {
	body := []byte(b.o.payload)
	echo, fb1, fb16, fbz, fbf, fbfp, fbf16p := b.kids[0], b.kids[1], b.kids[2], b.kids[3], b.kids[4], b.kids[5], b.kids[6]
	type tgt struct {
		key string
		c   int
		do  doer
		pid int // server process whose CPU is measured
	}
	var c1 = []tgt{
		{"A", 1, httpEcho(newHTTPClient(2), echo.url, body), echo.pid()},
		{"B1", 1, httpEcho(newHTTPClient(2), fb1.url, body), fb1.pid()},
		{"B1z", 1, httpEcho(newHTTPClient(2), fbz.url, body), fbz.pid()},
		{"B1f", 1, httpEcho(newHTTPClient(2), fbf.url, body), fbf.pid()},
		{"B1fp", 1, httpEcho(newHTTPClient(2), fbfp.url, body), fbfp.pid()},
		{"plain", 1, httpEcho(newHTTPClient(2), b.plain.invokeURL("echo"), body), b.plain.pid()},
		{"plain-sdk", 1, sdkEcho(newSDK(b.plain.url), "echo", body), b.plain.pid()},
	}
	if b.ns != nil {
		c1 = append(c1, tgt{"ns", 1, httpEcho(newHTTPClient(2), b.ns.invokeURL("echo"), body), b.ns.pid()})
	}
	if b.python != "" {
		c1 = append(c1, tgt{"py", 1, httpEcho(newHTTPClient(2), b.plain.invokeURL("py-echo"), body), b.plain.pid()})
	}
	if b.node != "" {
		c1 = append(c1, tgt{"node", 1, httpEcho(newHTTPClient(2), b.plain.invokeURL("node-echo"), body), b.plain.pid()})
	}
	c16 := []tgt{
		{"B16", 16, httpEcho(newHTTPClient(32), fb16.url, body), fb16.pid()},
		{"B16fp", 16, httpEcho(newHTTPClient(32), fbf16p.url, body), fbf16p.pid()},
		{"plain16", 16, httpEcho(newHTTPClient(32), b.plain.invokeURL("echo"), body), b.plain.pid()},
	}
	if b.ns != nil {
		c16 = append(c16, tgt{"ns16", 16, httpEcho(newHTTPClient(32), b.ns.invokeURL("echo"), body), b.ns.pid()})
	}
	res := map[string]*result{}
	for r := range b.o.rounds {
		for _, set := range [][]tgt{c1, c16} {
			for _, t := range set {
				d := b.o.dur
				if t.c > 1 {
					d = d * 3 / 2
				}
				warm := d / 10
				if r == 0 {
					warm = max(warm, 300*time.Millisecond) // c=16: lets all environments start
				}
				x, err := runLoad(ctx, t.key, t.do, t.pid, t.c, warm, d, 200000)
				if err != nil {
					return err
				}
				if res[t.key] == nil {
					res[t.key] = &result{name: t.key}
				}
				res[t.key].add(x)
			}
		}
		logf("warm round %d/%d done (loadavg %s)", r+1, b.o.rounds, loadavg())
	}
	for _, r := range res {
		r.extra = r.cpuPerReq()
	}
	A, B1, B16, pl, pl16 := res["A"], res["B1"], res["B16"], res["plain"], res["plain16"]
	rep.section("Warm invoke (closed loop, keep-alive; lambdad via plain net/http POST to /invocations unless noted)")
	rep.row("floor A: net/http echo, c=1", A, "", "", "")
	rep.row("floor B: Runtime-API relay, c=1 (1 worker)", B1, ratio(p50(B1), p50(A))+" of A p50", "", "")
	rep.row("floor B + SIGSTOP/SIGCONT per job, c=1 (info)", res["B1z"], ratio(p50(res["B1z"]), p50(B1))+" of B p50", "(info)", "")
	rep.row("floor B, worker = the aws-lambda-go echo function, c=1 (info)", res["B1f"], ratio(p50(res["B1f"]), p50(B1))+" of B p50", "(info)", "")
	rep.row("floor B, worker = the aws-lambda-go function on one CPU, c=1 (info)", res["B1fp"], ratio(p50(res["B1fp"]), p50(B1))+" of B p50", "(info)", "")
	rep.row("floor B: Runtime-API relay, c=16 (16 workers)", B16, "", "", "")
	rep.row("floor B, 16 aws-lambda-go workers one CPU each, c=16 (info)", res["B16fp"], fmt.Sprintf("%.2f× B req/s", res["B16fp"].rps()/B16.rps()), "(info)", "")
	rp := p50(pl) / p50(B1)
	rep.row("lambdad plain Go warm, c=1", pl, ratio(p50(pl), p50(B1))+" of B p50", "≤ 1.5× B (#3)", verdict(rp <= 1.5))
	rep.row("lambdad plain Go warm, c=1, aws-sdk-go-v2", res["plain-sdk"], ratio(p50(res["plain-sdk"]), p50(B1))+" of B p50", "(info)", "")
	rr := pl16.rps() / B16.rps()
	rep.row("lambdad plain Go warm, c=16 (16 envs)", pl16, fmt.Sprintf("%.2f× B req/s", rr), "≥ 0.7× B (#3)", verdict(rr >= 0.7))
	if b.ns != nil {
		ns, ns16 := res["ns"], res["ns16"]
		rn := p50(ns) / p50(pl)
		rep.row("lambdad namespaced Go warm, c=1", ns, ratio(p50(ns), p50(pl))+" of plain p50", "≤ 1.2× plain (#5)", verdict(rn <= 1.2))
		rep.row("lambdad namespaced Go warm, c=16", ns16, fmt.Sprintf("%.2f× plain req/s", ns16.rps()/pl16.rps()), "(info)", "")
	}
	if py := res["py"]; py != nil {
		rep.row("lambdad plain Python 3.12 warm, c=1", py, ratio(p50(py), p50(B1))+" of B p50", "≤ 2× B (#4)", verdict(p50(py)/p50(B1) <= 2))
	}
	if nd := res["node"]; nd != nil {
		rep.row("lambdad plain Node 20 warm, c=1", nd, ratio(p50(nd), p50(B1))+" of B p50", "≤ 2× B (#4)", verdict(p50(nd)/p50(B1) <= 2))
	}
	return nil
}

// coldStarts measures client-visible latency of the first invoke of a
// fresh function (and the REPORT line's Init Duration), interleaving the
// kinds round by round; round 0 is a discarded warm-up (code cache).
func (b *bench) coldStarts(ctx context.Context, rep *report) error {
	type kind struct {
		key string
		run func(i int) (time.Duration, time.Duration, error)
	}
	body := []byte(`{"cold":true}`)
	fresh := func(l *lambdad, prefix string, spec fnSpec) func(int) (time.Duration, time.Duration, error) {
		return func(i int) (time.Duration, time.Duration, error) {
			name := fmt.Sprintf("%s-%d", prefix, i)
			if err := l.create(ctx, name, spec, nil); err != nil {
				return 0, 0, err
			}
			el, init, err := l.invokeTail(ctx, name, body)
			if err != nil {
				return 0, 0, err
			}
			return el, init, l.remove(ctx, name)
		}
	}
	stale := 0
	if err := b.plain.create(ctx, "cold-upd", b.goSpec(), map[string]string{"ROUND": "x"}); err != nil {
		return err
	}
	kinds := []kind{
		{"go-plain", fresh(b.plain, "cold-go", b.goSpec())},
		{"go-plain-upd", func(i int) (time.Duration, time.Duration, error) {
			if err := b.plain.updateEnv(ctx, "cold-upd", map[string]string{"ROUND": fmt.Sprint(i)}); err != nil {
				return 0, 0, err
			}
			el, init, got, err := b.plain.invokeTailAnswer(ctx, "cold-upd", []byte(`{"getenv":"ROUND"}`))
			if err == nil && !sameJSON(got, []byte(fmt.Sprintf(`{"getenv":"%d"}`, i))) {
				stale++
				el = 0 // not a cold start: left out of the samples
				rep.note("invoke right after UpdateFunctionConfiguration reported Successful ran the previous configuration: ROUND=%d wanted, answer %s", i, got)
			}
			return el, init, err
		}},
	}
	if b.ns != nil {
		kinds = append(kinds, kind{"go-ns", fresh(b.ns, "cold-go", b.goSpec())})
	}
	if b.python != "" {
		kinds = append(kinds,
			kind{"py", fresh(b.plain, "cold-py", b.pySpec())},
			kind{"py-bare", func(int) (time.Duration, time.Duration, error) {
				d, err := execTime(b.python, "-c", "pass")
				return d, 0, err
			}})
	}
	if b.node != "" {
		kinds = append(kinds,
			kind{"node", fresh(b.plain, "cold-node", b.nodeSpec())},
			kind{"node-bare", func(int) (time.Duration, time.Duration, error) {
				d, err := execTime(b.node, "-e", "0")
				return d, 0, err
			}})
	}
	lat, inits, notCold := map[string]samples{}, map[string]samples{}, map[string]int{}
	deadline := time.Now().Add(3 * time.Minute)
	for i := 0; i <= b.o.cold && time.Now().Before(deadline); i++ {
		for _, k := range kinds {
			el, init, err := k.run(i)
			if err != nil {
				return fmt.Errorf("cold start %s round %d: %w", k.key, i, err)
			}
			if i == 0 || el == 0 {
				continue
			}
			lat[k.key] = append(lat[k.key], el)
			if init > 0 {
				inits[k.key] = append(inits[k.key], init)
			} else if !strings.HasSuffix(k.key, "-bare") {
				notCold[k.key]++
			}
		}
		if i == 1 && b.python != "" {
			// Which interpreter binary do Python environments really run?
			for _, p := range descendants(b.plain.pid()) {
				if strings.Contains(filepath.Base(p.exe), "python") {
					rep.note("python environment process exe: %s (bench baseline ran %s)", p.exe, b.python)
					break
				}
			}
		}
	}
	logf("cold starts done (loadavg %s)", loadavg())
	row := func(name, key, ratioS, target, ok string) {
		r := &result{lat: lat[key]}
		extra := ""
		if in := inits[key]; len(in) > 0 {
			extra = fmt.Sprintf("Init Duration p50 %s / p99 %s ms (n=%d)", ms(in.p50()), ms(in.p99()), len(in))
		}
		if notCold[key] > 0 {
			extra += fmt.Sprintf("; %d invokes without Init Duration (not cold?)", notCold[key])
		}
		r.extra = extra
		rep.row(name, r, ratioS, target, ok)
	}
	rep.section("Cold start: client-visible latency of the first invoke of a fresh function (plain HTTP client, LogType Tail)")
	gp := lat["go-plain"].p50()
	row("Go, plain, new function", "go-plain", "", "≤ 10 ms (#3)", verdict(gp <= 10*time.Millisecond))
	row("Go, plain, after UpdateFunctionConfiguration", "go-plain-upd", ratio(lat["go-plain-upd"].p50(), gp)+" of new fn", "(info)", "")
	if stale > 0 {
		rep.note("%d of %d invokes right after UpdateFunctionConfiguration (FunctionUpdatedV2 waiter done) ran the previous configuration", stale, b.o.cold+1)
	}
	if b.ns != nil {
		gn := lat["go-ns"].p50()
		row("Go, namespaced, new function", "go-ns", ratio(gn, gp)+" of plain", "≤ 15 ms (#5)", verdict(gn <= 15*time.Millisecond))
	}
	if b.python != "" {
		bare := lat["py-bare"].p50()
		row("bare interpreter: python3.12 -c pass", "py-bare", "", "", "")
		row("Python 3.12, plain, new function", "py", ratio(lat["py"].p50(), bare)+" of bare", "≤ 2× bare (#4)", verdict(float64(lat["py"].p50()) <= 2*float64(bare)))
	}
	if b.node != "" {
		bare := lat["node-bare"].p50()
		row("bare interpreter: node -e 0", "node-bare", "", "", "")
		row("Node 20, plain, new function", "node", ratio(lat["node"].p50(), bare)+" of bare", "≤ 2× bare (#4)", verdict(float64(lat["node"].p50()) <= 2*float64(bare)))
	}
	return nil
}

// isolation measures a burst of parallel cold starts per mode and the
// memory of the idle environments it leaves.
func (b *bench) isolation(ctx context.Context, rep *report) error {
	hold := 200 * time.Millisecond
	modes := []*lambdad{b.plain}
	if b.ns != nil {
		modes = append(modes, b.ns)
	}
	rep.section(fmt.Sprintf("Burst and density: %d parallel invokes of a fresh Go function, each holding its environment %v", b.o.burst, hold))
	type mem struct {
		mode string
		r    *burstResult
	}
	var mems []mem
	for _, l := range modes {
		r, err := burst(ctx, l, "burst", b.goSpec(), b.o.burst, hold)
		if err != nil {
			return err
		}
		if r.errs > 0 {
			rep.note("%s burst: %d of %d invokes failed, first: %v", l.isolation, r.errs, b.o.burst, r.firstErr)
		}
		logf("burst %s: %d envs in %v (loadavg %s)", l.isolation, r.envs, r.wall, loadavg())
		x := &result{lat: r.lat, extra: fmt.Sprintf("wall %s ms for %d new envs", ms(r.wall), r.envs)}
		rep.row(fmt.Sprintf("burst %d, %s: per-request latency", b.o.burst, l.isolation), x,
			fmt.Sprintf("%.0f envs/s", r.envsPerSec()), "(info)", "")
		mems = append(mems, mem{l.isolation, r})
		if b.o.density > b.o.burst {
			hold := time.Second + time.Duration(b.o.density)*5*time.Millisecond
			r, err := burst(ctx, l, "dense", b.goSpec(), b.o.density, hold)
			if err != nil {
				return err
			}
			if r.errs > 0 {
				rep.note("%s density: %d of %d invokes failed, first: %v", l.isolation, r.errs, b.o.density, r.firstErr)
			}
			logf("density %s: %d envs in %v (loadavg %s)", l.isolation, r.envs, r.wall, loadavg())
			x := &result{lat: r.lat, extra: fmt.Sprintf("wall %s ms for %d new envs, hold %v", ms(r.wall), r.envs, hold)}
			rep.row(fmt.Sprintf("density %d, %s: per-request latency", b.o.density, l.isolation), x,
				fmt.Sprintf("%.0f envs/s", r.envsPerSec()), "(info)", "")
			mems = append(mems, mem{l.isolation + " (density)", r})
		}
	}
	for _, m := range mems {
		r := m.r
		if r.envs == 0 {
			rep.note("%s: no new environment processes found", m.mode)
			continue
		}
		ov := r.overheadKB() / 1024
		rep.line(fmt.Sprintf("memory, %s, %d idle envs", m.mode, r.envs),
			fmt.Sprintf("function RSS %.1f / PSS %.1f MiB/env; daemon RSS +%.2f MiB/env; helpers %d %v (RSS %.2f / PSS %.2f MiB/env); kernel slab+stacks+pgtables +%.2f MiB/env (indicative, not in overhead)",
				mib(r.envRSSKB, r.envs), mib(r.envPSSKB, r.envs), mib(r.daemonGrowKB, r.envs), r.helpers, r.helperNames,
				mib(r.helperRSSKB, r.envs), mib(r.helperPSSKB, r.envs), mib(r.kernelGrowKB, r.envs)),
			fmt.Sprintf("%.2f MiB/env overhead", ov), "≤ 2 MB (#5)", verdict(ov*1.048576 <= 2))
	}
	return nil
}

// controlPlane times CreateFunction and GetFunction through the SDK.
func (b *bench) controlPlane(ctx context.Context, rep *report) error {
	l := b.plain
	spec := b.pySpec()
	t0 := time.Now()
	cr, err := timedCalls(ctx, b.o.cp, time.Minute, func(i int) error {
		return l.createOnly(ctx, fmt.Sprintf("cp-%05d", i), spec)
	})
	if err != nil {
		return err
	}
	crWall := time.Since(t0)
	t0 = time.Now()
	gt, err := timedCalls(ctx, b.o.cp, time.Minute, func(i int) error {
		return l.get(ctx, fmt.Sprintf("cp-%05d", i%len(cr)))
	})
	if err != nil {
		return err
	}
	gtWall := time.Since(t0)
	logf("control plane done (loadavg %s)", loadavg())
	rep.section(fmt.Sprintf("Control plane via aws-sdk-go-v2, sequential, %d-byte zip (python)", len(spec.zip)))
	rep.row("CreateFunction", &result{lat: cr, count: len(cr), elapsed: crWall}, "", "(info)", "")
	rep.row("GetFunction", &result{lat: gt, count: len(gt), elapsed: gtWall}, "", "(info)", "")
	return nil
}

func mib(kb int64, n int) float64 { return float64(kb) / 1024 / float64(n) }
