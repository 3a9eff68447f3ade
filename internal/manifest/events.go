package manifest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

var eventTypes = []string{EventHTTPAPI, EventHTTP, EventSchedule, EventSQS, EventSNS, EventS3, EventStream, EventEventBridge}

// otherEvents are event types of the Framework that lambdad does not parse.
var otherEvents = map[string]string{
	"alb":                  "ALB events are not supported; use httpApi",
	"websocket":            "websocket events are not supported yet",
	"cloudwatchLog":        "cloudwatchLog events are not supported yet",
	"cloudwatchEvent":      "cloudwatchEvent is deprecated and not supported; use eventBridge",
	"cognitoUserPool":      "Cognito triggers are AWS-only",
	"alexaSkill":           "Alexa triggers are AWS-only",
	"alexaSmartHome":       "Alexa triggers are AWS-only",
	"iot":                  "IoT triggers are AWS-only",
	"iotFleetProvisioning": "IoT triggers are AWS-only",
	"cloudFront":           "Lambda@Edge is AWS-only",
	"msk":                  "MSK triggers are not supported",
	"kafka":                "Kafka triggers are not supported",
	"activemq":             "ActiveMQ triggers are not supported",
	"rabbitmq":             "RabbitMQ triggers are not supported",
}

var (
	httpMethods   = []string{"ANY", "GET", "POST", "PUT", "PATCH", "OPTIONS", "HEAD", "DELETE"}
	rateRE        = regexp.MustCompile(`^rate\((?:1 (?:minute|hour|day)|(?:1\d+|[2-9]\d*) (?:minute|hour|day)s)\)$`)
	cronRE        = regexp.MustCompile(`^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$`)
	scheduleNmRE  = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)
	topicNameRE   = regexp.MustCompile(`^[\w-]{1,256}$`)
	s3EventRE     = regexp.MustCompile(`^s3:.+$`)
	ebScheduleRE  = regexp.MustCompile(`^(?:cron|rate)\(.+\)$`)
	arnRE         = regexp.MustCompile(`^arn:[a-zA-Z0-9-]+:[a-zA-Z0-9-]+:[a-z0-9-]*:\d{0,12}:.+$`)
	sqsQueueRE    = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,80}(\.fifo)?$`)
	bucketNameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	httpPathParts = regexp.MustCompile(`^[^\s]*$`)
)

// events decodes functions.<key>.events.
func (d *decoder) events(n *yaml.Node, path string, fn *Function, payload string, cors *CORS) []Event {
	var out []Event
	var at []*yaml.Node // source node of each out[i], for cross-event checks
	var idx []int       // events[] index of each out[i]
	for i, it := range d.list(n, path) {
		ip := fmt.Sprintf("%s[%d]", path, i)
		if it.Kind != yaml.MappingNode || len(it.Content) != 2 {
			d.schemaf(it, ip, CodeInvalidValue, "an event must be an object with exactly one key (its type, e.g. httpApi)")
			continue
		}
		k, v := it.Content[0], it.Content[1]
		tp := joinPath(ip, k.Value)
		var ev *Event
		switch k.Value {
		case EventHTTPAPI:
			if e := d.httpAPIEvent(v, tp, payload, cors, fn); e != nil {
				ev = &Event{HTTPAPI: e}
			}
		case EventHTTP:
			if e := d.httpEvent(v, tp); e != nil {
				ev = &Event{HTTP: e}
			}
		case EventSchedule:
			if e := d.scheduleEvent(v, tp); e != nil {
				ev = &Event{Schedule: e}
			}
		case EventSQS:
			if e := d.sqsEvent(v, tp); e != nil {
				ev = &Event{SQS: e}
			}
		case EventSNS:
			if e := d.snsEvent(v, tp); e != nil {
				ev = &Event{SNS: e}
			}
		case EventS3:
			if e := d.s3Event(v, tp); e != nil {
				ev = &Event{S3: e}
			}
		case EventStream:
			if e := d.streamEvent(v, tp); e != nil {
				ev = &Event{Stream: e}
			}
		case EventEventBridge:
			if e := d.eventBridgeEvent(v, tp); e != nil {
				ev = &Event{EventBridge: e}
			}
		default:
			if why, ok := otherEvents[k.Value]; ok {
				d.errorf(k, tp, CodeUnsupported, "%s", why)
				continue
			}
			hint := ""
			if h := suggest(k.Value, eventTypes); h != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", h)
			}
			d.schemaf(k, tp, CodeUnknownKey, "unknown event type %q%s", k.Value, hint)
			continue
		}
		if ev != nil {
			ev.Type = k.Value
			out = append(out, *ev)
			at = append(at, it)
			idx = append(idx, i)
		}
	}
	d.checkS3Overlap(out, at, idx, path)
	return out
}

// method normalizes an HTTP method (case-insensitive; "*" is ANY for REST).
func (d *decoder) method(n *yaml.Node, path, m string, allowStar bool) (string, bool) {
	u := strings.ToUpper(m)
	if u == "*" && allowStar {
		return "*", true
	}
	if !slices.Contains(httpMethods, u) {
		d.schemaf(n, path, CodeInvalidValue, "unknown HTTP method %q (want one of %s)", m, strings.Join(httpMethods, ", "))
		return "", false
	}
	return u, true
}

func (d *decoder) httpAPIEvent(n *yaml.Node, path, payload string, cors *CORS, fn *Function) *HTTPAPIEvent {
	e := &HTTPAPIEvent{Payload: payload, CORS: cors}
	var at *yaml.Node
	if n.Kind == yaml.ScalarNode {
		s, ok := d.str(n, path)
		if !ok {
			return nil
		}
		at = n
		if s == "*" {
			e.Method, e.Path = "*", "*"
		} else {
			m, p, ok := strings.Cut(strings.TrimSpace(s), " ")
			if !ok {
				d.schemaf(n, path, CodeInvalidValue, "%q must be \"METHOD /path\" or \"*\"", s)
				return nil
			}
			if e.Method, ok = d.method(n, path, m, true); !ok {
				return nil
			}
			e.Path = strings.TrimSpace(p)
		}
	} else {
		f := d.object(n, path, []string{"method", "path"}, map[string]awsField{
			"authorizer": {policy: awsReject, why: "HTTP API authorizers are not enforced yet, so the route would be public", hatch: "authorizers"},
		})
		at = n
		if f["path"] == nil {
			d.schemaf(n, path+".path", CodeMissingKey, "path is required")
			return nil
		}
		e.Path, _ = d.str(f["path"], path+".path")
		m := "*"
		if f["method"] != nil {
			var ok bool
			if m, ok = d.str(f["method"], path+".method"); !ok {
				return nil
			}
		}
		var ok bool
		if e.Method, ok = d.method(f["method"], path+".method", m, true); !ok {
			return nil
		}
	}
	if e.Path != "*" && !strings.HasPrefix(e.Path, "/") {
		d.schemaf(at, path, CodeInvalidValue, "path %q must be \"*\" or start with \"/\"", e.Path)
		return nil
	}
	if e.Method == "ANY" {
		e.Method = "*"
	}
	if fn.Timeout >= 30 {
		d.warnf(at, path, CodeHTTPAPITimeout, "function timeout %ds is ≥ 30s, the HTTP API integration timeout; requests will time out at 30s", fn.Timeout)
	}
	return e
}

func (d *decoder) httpEvent(n *yaml.Node, path string) *HTTPEvent {
	e := &HTTPEvent{}
	if n.Kind == yaml.ScalarNode {
		s, ok := d.str(n, path)
		if !ok {
			return nil
		}
		m, p, ok := strings.Cut(strings.TrimSpace(s), " ")
		if !ok {
			d.schemaf(n, path, CodeInvalidValue, "%q must be \"METHOD path\"", s)
			return nil
		}
		if e.Method, ok = d.method(n, path, m, false); !ok {
			return nil
		}
		e.Path = strings.TrimSpace(p)
	} else {
		f := d.object(n, path, []string{"path", "method", "cors", "private", "async", "integration", "request", "operationId"}, map[string]awsField{
			"authorizer":     {policy: awsReject, why: "REST API authorizers are not enforced yet, so the route would be public", hatch: "authorizers"},
			"response":       {policy: awsWarn, why: "response templates only apply to non-proxy integrations"},
			"connectionType": {policy: awsReject, why: "VPC links do not exist here"},
			"connectionId":   {policy: awsReject, why: "VPC links do not exist here", hatch: "connectionType"},
		})
		for _, req := range []string{"path", "method"} {
			if f[req] == nil {
				d.schemaf(n, path+"."+req, CodeMissingKey, "%s is required", req)
				return nil
			}
		}
		var ok bool
		e.Path, _ = d.str(f["path"], path+".path")
		m, _ := d.str(f["method"], path+".method")
		if e.Method, ok = d.method(f["method"], path+".method", m, false); !ok {
			return nil
		}
		if e.CORS = d.cors(f["cors"], path+".cors", httpAPICORSHeaders); e.CORS != nil && len(e.CORS.AllowMethods) == 0 {
			e.CORS.AllowMethods = []string{"OPTIONS", e.Method}
		}
		e.Private, _ = d.boolean(f["private"], path+".private")
		e.Async, _ = d.boolean(f["async"], path+".async")
		d.str(f["operationId"], path+".operationId")
		if v := f["integration"]; v != nil {
			if s, ok := d.str(v, path+".integration"); ok {
				switch strings.ToLower(s) {
				case "lambda-proxy", "aws_proxy", "aws-proxy":
				default:
					d.errorf(v, path+".integration", CodeUnsupported, "integration %q is not supported; only lambda-proxy (AWS_PROXY) is", s)
				}
			}
		}
		if r := f["request"]; r != nil {
			rf := d.object(r, path+".request", []string{"parameters", "schemas", "passThrough", "contentHandling", "uri"},
				map[string]awsField{"template": {policy: awsNever, why: "VTL mapping templates are not supported"}})
			for _, k := range []string{"schemas", "passThrough", "contentHandling", "uri"} {
				if rf[k] != nil {
					d.warnf(rf[k], path+".request."+k, CodeAWSOnlyIgnored, "request.%s is not applied by lambdad yet", k)
				}
			}
			if pn := rf["parameters"]; pn != nil {
				pf := d.object(pn, path+".request.parameters", []string{"querystrings", "headers", "paths"}, nil)
				for _, loc := range []string{"querystrings", "headers", "paths"} {
					lp := path + ".request.parameters." + loc
					v := pf[loc]
					if v == nil {
						continue
					}
					if v.Kind != yaml.MappingNode {
						d.schemaf(v, lp, CodeInvalidValue, "must be an object of name: true|false")
						continue
					}
					for i := 0; i+1 < len(v.Content); i += 2 {
						pk, pv := v.Content[i], v.Content[i+1]
						req := false
						if pv.Kind == yaml.MappingNode {
							rf := d.object(pv, joinPath(lp, pk.Value), []string{"required", "mappedValue"}, nil)
							req, _ = d.boolean(rf["required"], joinPath(lp, pk.Value)+".required")
						} else {
							req, _ = d.boolean(pv, joinPath(lp, pk.Value))
						}
						if req {
							if e.RequiredParameters == nil {
								e.RequiredParameters = map[string][]string{}
							}
							e.RequiredParameters[loc] = append(e.RequiredParameters[loc], pk.Value)
						}
					}
					slices.Sort(e.RequiredParameters[loc])
				}
			}
		}
	}
	if !strings.HasPrefix(e.Path, "/") {
		e.Path = "/" + e.Path
	}
	if !httpPathParts.MatchString(e.Path) {
		d.schemaf(n, path, CodeInvalidValue, "path %q must not contain spaces", e.Path)
		return nil
	}
	return e
}

func (d *decoder) scheduleRate(n *yaml.Node, path string) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	if !rateRE.MatchString(s) && !cronRE.MatchString(s) {
		d.schemaf(n, path, CodeInvalidValue, "%q must be rate(<n> minute|minutes|hour|hours|day|days) (singular only for 1) or cron(<6 fields>)", s)
		return "", false
	}
	return s, true
}

func (d *decoder) scheduleEvent(n *yaml.Node, path string) *ScheduleEvent {
	e := &ScheduleEvent{Enabled: true}
	if n.Kind == yaml.ScalarNode {
		s, ok := d.scheduleRate(n, path)
		if !ok {
			return nil
		}
		e.Rates = []string{s}
		return e
	}
	f := d.object(n, path, []string{"rate", "enabled", "name", "description", "input", "timezone", "method"}, map[string]awsField{
		"inputPath":        {policy: awsNever, why: "inputPath is not supported yet; use input"},
		"inputTransformer": {policy: awsNever, why: "inputTransformer is not supported yet; use input"},
	})
	if f["rate"] == nil {
		d.schemaf(n, path+".rate", CodeMissingKey, "rate is required")
		return nil
	}
	rates := f["rate"]
	items := []*yaml.Node{rates}
	if rates.Kind == yaml.SequenceNode {
		items = rates.Content
	}
	for i, r := range items {
		if s, ok := d.scheduleRate(r, fmt.Sprintf("%s.rate[%d]", path, i)); ok {
			e.Rates = append(e.Rates, s)
		}
	}
	if len(e.Rates) == 0 {
		if len(items) == 0 {
			d.schemaf(rates, path+".rate", CodeInvalidValue, "needs at least one rate or cron expression")
		}
		return nil
	}
	if b, ok := d.boolean(f["enabled"], path+".enabled"); ok {
		e.Enabled = b
	}
	if s, ok := d.pattern(f["name"], path+".name", scheduleNmRE, "1–64 characters of letters, digits, '.', '-' or '_'"); ok {
		if len(e.Rates) > 1 {
			d.errorf(f["name"], path+".name", CodeScheduleMultiName, "name is not allowed with more than one rate")
		}
		e.Name = s
	}
	if s, ok := d.str(f["description"], path+".description"); ok {
		if len(s) > 512 {
			d.schemaf(f["description"], path+".description", CodeInvalidValue, "is %d characters, at most 512 allowed", len(s))
		}
		e.Description = s
	}
	if v := f["input"]; v != nil && !isNull(v) {
		switch v.Kind {
		case yaml.ScalarNode:
			if len(v.Value) > 8192 {
				d.schemaf(v, path+".input", CodeInvalidValue, "is %d characters, at most 8192 allowed", len(v.Value))
			}
			e.Input = v.Value
		case yaml.MappingNode:
			if mapGet(v, "body") != nil && len(v.Content) > 2 {
				d.schemaf(v, path+".input", CodeInvalidValue, "an input with body must have no other keys")
			}
			e.Input = toAny(v)
		default:
			d.schemaf(v, path+".input", CodeInvalidValue, "must be a string or an object")
		}
	}
	e.Timezone, _ = d.str(f["timezone"], path+".timezone")
	d.enum(f["method"], path+".method", "eventBus", "scheduler")
	return e
}

// queueARN accepts an SQS ARN or a queue name.
func (d *decoder) queueARN(n *yaml.Node, path string) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	if !arnRE.MatchString(s) && !sqsQueueRE.MatchString(s) {
		d.schemaf(n, path, CodeInvalidValue, "%q must be a queue ARN or a queue name", s)
		return "", false
	}
	if arnRE.MatchString(s) && !strings.Contains(s, ":sqs:") {
		d.schemaf(n, path, CodeInvalidValue, "%q is not an SQS queue ARN", s)
		return "", false
	}
	return s, true
}

func (d *decoder) filterPatterns(n *yaml.Node, path string) []any {
	items := d.list(n, path)
	if n != nil && !isNull(n) && (len(items) < 1 || len(items) > 10) {
		d.schemaf(n, path, CodeInvalidValue, "needs 1–10 filter patterns, got %d", len(items))
	}
	var out []any
	for i, it := range items {
		if it.Kind != yaml.MappingNode {
			d.schemaf(it, fmt.Sprintf("%s[%d]", path, i), CodeInvalidValue, "a filter pattern must be an object")
			continue
		}
		out = append(out, toAny(it))
	}
	return out
}

func (d *decoder) sqsEvent(n *yaml.Node, path string) *SQSEvent {
	e := &SQSEvent{BatchSize: 10, Enabled: true}
	if n.Kind == yaml.ScalarNode {
		s, ok := d.queueARN(n, path)
		if !ok {
			return nil
		}
		e.ARN = s
		return e
	}
	f := d.object(n, path, []string{"arn", "batchSize", "maximumBatchingWindow", "enabled", "functionResponseType", "filterPatterns", "maximumConcurrency"}, nil)
	if f["arn"] == nil {
		d.schemaf(n, path+".arn", CodeMissingKey, "arn is required")
		return nil
	}
	s, ok := d.queueARN(f["arn"], path+".arn")
	if !ok {
		return nil
	}
	e.ARN = s
	if v, ok := d.integer(f["batchSize"], path+".batchSize", 1, 10000); ok {
		e.BatchSize = v
	}
	e.MaximumBatchingWindow, _ = d.integer(f["maximumBatchingWindow"], path+".maximumBatchingWindow", 0, 300)
	if e.BatchSize > 10 && e.MaximumBatchingWindow < 1 {
		d.errorf(f["batchSize"], path+".batchSize", CodeInvalidValue, "batchSize %d > 10 requires maximumBatchingWindow ≥ 1", e.BatchSize)
	}
	if b, ok := d.boolean(f["enabled"], path+".enabled"); ok {
		e.Enabled = b
	}
	e.FunctionResponseType, _ = d.enum(f["functionResponseType"], path+".functionResponseType", "ReportBatchItemFailures")
	e.FilterPatterns = d.filterPatterns(f["filterPatterns"], path+".filterPatterns")
	e.MaximumConcurrency, _ = d.integer(f["maximumConcurrency"], path+".maximumConcurrency", 2, 1000)
	return e
}

func (d *decoder) snsEvent(n *yaml.Node, path string) *SNSEvent {
	e := &SNSEvent{}
	if n.Kind == yaml.ScalarNode {
		s, ok := d.str(n, path)
		if !ok {
			return nil
		}
		switch {
		case strings.HasPrefix(s, "arn:"):
			e.ARN = s
		case topicNameRE.MatchString(s):
			e.TopicName = s
		default:
			d.schemaf(n, path, CodeInvalidValue, "%q must be a topic ARN or a topic name (letters, digits, - and _)", s)
			return nil
		}
		return e
	}
	f := d.object(n, path, []string{"arn", "topicName", "displayName", "filterPolicy", "filterPolicyScope"}, map[string]awsField{
		"redrivePolicy": {policy: awsReject, why: "SNS redrive to an SQS dead-letter queue does not exist here, so undeliverable messages would be lost"},
	})
	e.ARN, _ = d.str(f["arn"], path+".arn")
	if s, ok := d.pattern(f["topicName"], path+".topicName", topicNameRE, "1–256 letters, digits, - and _"); ok {
		e.TopicName = s
	}
	if e.ARN == "" && e.TopicName == "" {
		d.errorf(n, path, "SNS_MISSING_TOPIC_NAME", "arn or topicName is required")
		return nil
	}
	if e.ARN != "" && !strings.HasPrefix(e.ARN, "arn:") {
		d.schemaf(f["arn"], path+".arn", CodeInvalidValue, "%q is not an ARN", e.ARN)
	}
	e.DisplayName, _ = d.str(f["displayName"], path+".displayName")
	if v := f["filterPolicy"]; v != nil && !isNull(v) {
		if v.Kind != yaml.MappingNode {
			d.schemaf(v, path+".filterPolicy", CodeInvalidValue, "must be an object")
		} else {
			e.FilterPolicy = toAny(v)
		}
	}
	e.FilterPolicyScope, _ = d.enum(f["filterPolicyScope"], path+".filterPolicyScope", "MessageAttributes", "MessageBody")
	return e
}

func (d *decoder) s3Event(n *yaml.Node, path string) *S3Event {
	e := &S3Event{Event: "s3:ObjectCreated:*"}
	var at *yaml.Node = n
	if n.Kind == yaml.ScalarNode {
		s, ok := d.str(n, path)
		if !ok {
			return nil
		}
		e.Bucket = s
	} else {
		f := d.object(n, path, []string{"bucket", "event", "rules", "existing"}, map[string]awsField{
			"forceDeploy": {policy: awsWarn, why: "there is no custom resource to force"},
		})
		if f["bucket"] == nil {
			d.schemaf(n, path+".bucket", CodeMissingKey, "bucket is required")
			return nil
		}
		var ok bool
		if e.Bucket, ok = d.str(f["bucket"], path+".bucket"); !ok {
			return nil
		}
		at = f["bucket"]
		if s, ok := d.pattern(f["event"], path+".event", s3EventRE, "an S3 event type such as s3:ObjectCreated:*"); ok {
			e.Event = s
		}
		for i, r := range d.list(f["rules"], path+".rules") {
			rp := fmt.Sprintf("%s.rules[%d]", path, i)
			if r.Kind != yaml.MappingNode || len(r.Content) != 2 {
				d.schemaf(r, rp, CodeInvalidValue, "a rule must have exactly one key: prefix or suffix")
				continue
			}
			rf := d.object(r, rp, []string{"prefix", "suffix"}, nil)
			var rule S3Rule
			rule.Prefix, _ = d.str(rf["prefix"], rp+".prefix")
			rule.Suffix, _ = d.str(rf["suffix"], rp+".suffix")
			if rule != (S3Rule{}) {
				e.Rules = append(e.Rules, rule)
			}
		}
		e.Existing, _ = d.boolean(f["existing"], path+".existing")
	}
	if !bucketNameRE.MatchString(e.Bucket) || strings.Contains(e.Bucket, "..") {
		d.schemaf(at, path, CodeInvalidValue, "%q is not a valid bucket name (3–63 lowercase letters, digits, '.' and '-')", e.Bucket)
		return nil
	}
	return e
}

// checkS3Overlap rejects two notifications of one function on the same
// bucket and event whose prefix/suffix filters overlap (S3 rejects them).
func (d *decoder) checkS3Overlap(evs []Event, at []*yaml.Node, idx []int, path string) {
	type ref struct {
		i int
		n *yaml.Node
		e *S3Event
	}
	var s3s []ref
	for i := range evs {
		if evs[i].S3 != nil {
			s3s = append(s3s, ref{idx[i], at[i], evs[i].S3})
		}
	}
	for a := 0; a < len(s3s); a++ {
		for b := a + 1; b < len(s3s); b++ {
			x, y := s3s[a].e, s3s[b].e
			if x.Bucket != y.Bucket || !eventsOverlap(x.Event, y.Event) {
				continue
			}
			px, sx := ruleParts(x.Rules)
			py, sy := ruleParts(y.Rules)
			if (strings.HasPrefix(px, py) || strings.HasPrefix(py, px)) && (strings.HasSuffix(sx, sy) || strings.HasSuffix(sy, sx)) {
				d.errorf(s3s[b].n, fmt.Sprintf("%s[%d].s3", path, s3s[b].i), CodeInvalidValue, "overlaps events[%d] on bucket %q (same event type, overlapping prefix/suffix); S3 rejects overlapping notifications", s3s[a].i, x.Bucket)
			}
		}
	}
}

func ruleParts(rules []S3Rule) (prefix, suffix string) {
	for _, r := range rules {
		if r.Prefix != "" {
			prefix = r.Prefix
		}
		if r.Suffix != "" {
			suffix = r.Suffix
		}
	}
	return prefix, suffix
}

// eventsOverlap reports whether two S3 event types can match the same event
// (a trailing "*" is a wildcard).
func eventsOverlap(a, b string) bool {
	a, b = strings.TrimSuffix(a, "*"), strings.TrimSuffix(b, "*")
	return strings.HasPrefix(a, b) || strings.HasPrefix(b, a)
}

func (d *decoder) streamEvent(n *yaml.Node, path string) *StreamEvent {
	e := &StreamEvent{BatchSize: 10, StartingPosition: "TRIM_HORIZON", Enabled: true}
	at := n
	if n.Kind == yaml.ScalarNode {
		s, ok := d.str(n, path)
		if !ok {
			return nil
		}
		e.ARN = s
	} else {
		f := d.object(n, path, []string{"arn", "type", "batchSize", "startingPosition", "startingPositionTimestamp", "enabled", "batchWindow",
			"parallelizationFactor", "maximumRetryAttempts", "maximumRecordAgeInSeconds", "bisectBatchOnFunctionError", "functionResponseType",
			"tumblingWindowInSeconds", "filterPatterns"}, map[string]awsField{
			"destinations": {policy: awsReject, why: "on-failure destinations to SNS/SQS do not exist here, so failed records would be lost", hatch: "destinations"},
			"consumer":     {policy: awsWarn, why: "Kinesis enhanced fan-out is AWS-only"},
		})
		if f["arn"] == nil {
			d.schemaf(n, path+".arn", CodeMissingKey, "arn is required")
			return nil
		}
		var ok bool
		if e.ARN, ok = d.str(f["arn"], path+".arn"); !ok {
			return nil
		}
		at = f["arn"]
		e.Type, _ = d.enum(f["type"], path+".type", "dynamodb", "kinesis")
		if v, ok := d.integer(f["batchSize"], path+".batchSize", 1, 10000); ok {
			e.BatchSize = v
		}
		if s, ok := d.enum(f["startingPosition"], path+".startingPosition", "LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"); ok {
			e.StartingPosition = s
		}
		e.StartingPositionTimestamp = d.intPtr(f["startingPositionTimestamp"], path+".startingPositionTimestamp", 0, 1<<62)
		if e.StartingPosition == "AT_TIMESTAMP" && e.StartingPositionTimestamp == nil {
			d.errorf(n, path+".startingPositionTimestamp", CodeMissingKey, "startingPositionTimestamp is required with AT_TIMESTAMP")
		}
		if b, ok := d.boolean(f["enabled"], path+".enabled"); ok {
			e.Enabled = b
		}
		e.BatchWindow, _ = d.integer(f["batchWindow"], path+".batchWindow", 0, 300)
		e.ParallelizationFactor, _ = d.integer(f["parallelizationFactor"], path+".parallelizationFactor", 1, 10)
		e.MaximumRetryAttempts = d.intPtr(f["maximumRetryAttempts"], path+".maximumRetryAttempts", -1, 10000)
		if v := d.intPtr(f["maximumRecordAgeInSeconds"], path+".maximumRecordAgeInSeconds", -1, 604800); v != nil {
			if *v != -1 && *v < 60 {
				d.schemaf(f["maximumRecordAgeInSeconds"], path+".maximumRecordAgeInSeconds", CodeInvalidValue, "%d must be -1 or 60–604800", *v)
			} else {
				e.MaximumRecordAgeInSeconds = v
			}
		}
		e.BisectBatchOnFunctionError, _ = d.boolean(f["bisectBatchOnFunctionError"], path+".bisectBatchOnFunctionError")
		e.FunctionResponseType, _ = d.enum(f["functionResponseType"], path+".functionResponseType", "ReportBatchItemFailures")
		e.TumblingWindowInSeconds, _ = d.integer(f["tumblingWindowInSeconds"], path+".tumblingWindowInSeconds", 0, 900)
		e.FilterPatterns = d.filterPatterns(f["filterPatterns"], path+".filterPatterns")
	}
	if e.Type == "" {
		switch {
		case strings.Contains(e.ARN, ":dynamodb:"):
			e.Type = "dynamodb"
		case strings.Contains(e.ARN, ":kinesis:"):
			e.Type = "kinesis"
		default:
			d.schemaf(at, path, CodeInvalidValue, "cannot tell the stream type from %q; set type: dynamodb or kinesis", e.ARN)
			return nil
		}
	}
	return e
}

func (d *decoder) eventBridgeEvent(n *yaml.Node, path string) *EventBridgeEvent {
	e := &EventBridgeEvent{Enabled: true}
	f := d.object(n, path, []string{"eventBus", "pattern", "schedule", "name", "description", "enabled", "input", "inputPath", "retryPolicy"}, map[string]awsField{
		"inputTransformer":   {policy: awsNever, why: "inputTransformer is not supported yet; use input or inputPath"},
		"deadLetterQueueArn": {policy: awsReject, why: "an SQS dead-letter queue does not exist here, so undeliverable events would be lost", hatch: "deadLetterQueueArn"},
	})
	if n.Kind != yaml.MappingNode {
		return nil
	}
	e.EventBus, _ = d.str(f["eventBus"], path+".eventBus")
	if v := f["pattern"]; v != nil && !isNull(v) {
		d.object(v, path+".pattern", []string{"source", "detail-type", "detail", "account", "region", "resources", "time", "id", "version", "$or"}, nil)
		e.Pattern = toAny(v)
	}
	if s, ok := d.pattern(f["schedule"], path+".schedule", ebScheduleRE, "rate(...) or cron(...)"); ok {
		e.Schedule = s
	}
	if (e.Pattern == nil) == (e.Schedule == "") {
		d.errorf(n, path, CodeInvalidValue, "exactly one of pattern or schedule is required")
		return nil
	}
	if s, ok := d.pattern(f["name"], path+".name", scheduleNmRE, "1–64 characters of letters, digits, '.', '-' or '_'"); ok {
		e.Name = s
	}
	if s, ok := d.str(f["description"], path+".description"); ok {
		if len(s) > 512 {
			d.schemaf(f["description"], path+".description", CodeInvalidValue, "is %d characters, at most 512 allowed", len(s))
		}
		e.Description = s
	}
	if b, ok := d.boolean(f["enabled"], path+".enabled"); ok {
		e.Enabled = b
	}
	if v := f["input"]; v != nil && !isNull(v) {
		if v.Kind != yaml.MappingNode {
			d.schemaf(v, path+".input", CodeInvalidValue, "must be an object")
		} else {
			e.Input = toAny(v)
		}
	}
	if s, ok := d.str(f["inputPath"], path+".inputPath"); ok {
		if len(s) < 1 || len(s) > 256 {
			d.schemaf(f["inputPath"], path+".inputPath", CodeInvalidValue, "must be 1–256 characters")
		}
		e.InputPath = s
	}
	if e.Input != nil && e.InputPath != "" {
		d.schemaf(n, path, CodeInvalidValue, "input and inputPath are mutually exclusive")
	}
	if r := f["retryPolicy"]; r != nil {
		rf := d.object(r, path+".retryPolicy", []string{"maximumEventAge", "maximumRetryAttempts"}, nil)
		e.MaximumEventAge = d.intPtr(rf["maximumEventAge"], path+".retryPolicy.maximumEventAge", 60, 86400)
		e.MaximumRetryAttempts = d.intPtr(rf["maximumRetryAttempts"], path+".retryPolicy.maximumRetryAttempts", 0, 185)
	}
	return e
}
