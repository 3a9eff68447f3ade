package manifest

import (
	"fmt"
	"sort"
	"strings"
)

// Problem and warning codes. Where the Serverless Framework has a code for
// the same finding, it is reused so users can search for it.
const (
	CodeUnknownKey        = "UNKNOWN_KEY"
	CodeInvalidValue      = "INVALID_VALUE"
	CodeMissingKey        = "MISSING_KEY"
	CodeMissingVariable   = "MISSING_VARIABLE_RESULT"
	CodeInvalidLiteral    = "INVALID_VARIABLE_LITERAL_SOURCE"
	CodeVariableCycle     = "VARIABLE_CYCLE"
	CodeVariableSyntax    = "INVALID_VARIABLE_SYNTAX"
	CodeVariableSource    = "UNSUPPORTED_VARIABLE_SOURCE"
	CodeAWSOnlyIgnored    = "AWS_ONLY_IGNORED"
	CodeAWSOnlyRejected   = "AWS_ONLY_REJECTED"
	CodeUnsupported       = "UNSUPPORTED"
	CodeDeprecated        = "DEPRECATED"
	CodeHTTPAPITimeout    = "HTTP_API_TIMEOUT"
	CodeScheduleMultiName = "SCHEDULE_NAME_NOT_ALLOWED_MULTIPLE_RATES"
	CodeReadFile          = "READ_FILE"
)

// Problem is one finding in a manifest, with its position. Load's error
// joins one *Problem per finding (errors.As finds the first; iterate over
// the joined error's Unwrap() []error for all).
type Problem struct {
	File   string // manifest path as given to Load
	Line   int    // 1-based; 0 when unknown
	Column int
	Path   string // dotted config path, e.g. functions.hello.memorySize
	Code   string
	Msg    string
}

// Error formats the problem as file:line:col: path: message [CODE].
func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	fmt.Fprintf(&b, " [%s]", p.Code)
	return b.String()
}

// Warning is a finding that does not stop the deploy: an AWS-only field that
// is ignored, a deprecation, or a schema problem under
// configValidationMode: warn.
type Warning Problem

// String formats the warning like Problem.Error.
func (w Warning) String() string { p := Problem(w); return p.Error() }

// sortProblems orders findings by position so output is stable.
func sortProblems(ps []*Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Path < b.Path
	})
}

// sortWarnings orders warnings by position.
func sortWarnings(ws []Warning) {
	ps := make([]*Problem, len(ws))
	for i := range ws {
		p := Problem(ws[i])
		ps[i] = &p
	}
	sortProblems(ps)
	for i, p := range ps {
		ws[i] = Warning(*p)
	}
}

// suggest returns the candidate closest to s when it is close enough to be a
// plausible typo (case-insensitive edit distance ≤ 1/3 of the length, at
// least 2 for short keys), else "".
func suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	ls := strings.ToLower(s)
	for _, c := range candidates {
		d := editDistance(ls, strings.ToLower(c))
		if d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	limit := max(2, len(s)/3)
	if best == "" || bestD > limit {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
