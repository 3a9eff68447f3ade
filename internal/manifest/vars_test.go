package manifest

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// fuzzDoc builds a manifest tree whose custom.a is value and custom.b
// refers to it.
func fuzzDoc(value string) *yaml.Node {
	str := func(s string) *yaml.Node { return scalarNode(tagStr, s, 1, 1) }
	mapping := func(kv ...*yaml.Node) *yaml.Node {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: tagMap, Content: kv, Line: 1, Column: 1}
	}
	return mapping(
		str("service"), str("fuzz"),
		str("provider"), mapping(str("name"), str("aws"), str("stage"), str("${opt:stage, 'dev'}")),
		str("params"), mapping(str("default"), mapping(str("p"), str("param-value"))),
		str("custom"), mapping(
			str("a"), str(value),
			str("b"), str("${self:custom.a}"),
			str("c"), mapping(str("d"), str("deep")),
		),
	)
}

func resolveValue(value string) (*yaml.Node, []*Problem) {
	root := fuzzDoc(value)
	r := newResolver("fuzz.yml", "testdata", root, map[string]string{"color": "blue"},
		func(k string) string {
			if k == "A" {
				return "env-a"
			}
			return ""
		}, "fuzz-id")
	r.resolveAll()
	return root, r.problems
}

var knownCodes = map[string]bool{
	CodeMissingVariable: true, CodeInvalidLiteral: true, CodeVariableCycle: true, CodeVariableSyntax: true,
	CodeVariableSource: true, CodeInvalidValue: true, CodeReadFile: true,
}

// FuzzResolve checks the variable resolver on arbitrary values: it
// terminates (cycles are detected), reports only known codes, leaves
// variable-free strings alone, is deterministic, and ${self:} of a value
// gives that value.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{
		"plain", "${self:custom.c.d}", "${env:A}", "${env:B, 'fallback'}", "${opt:color}", "${opt:stage}",
		"x-${env:A}-${opt:color}-y", "${env:${opt:color}}", `\${not.a.var}`, "${self:custom.b}", "${self:custom.a}",
		"${sls:stage}", "${sls:instanceId}", "${param:p}", "${param:missing, null}", "${file(./files/config.yml):memory}",
		"${file(./files/config.dev.json)}", "${strToBool(1)}", "${env:B, 3}", "${env:B, dev}", "${", "${}", "${env:A",
		"${self:}", "${aws:region}", "${ssm:/x}", "${self:custom.${opt:color}}", "${env:B, ${env:A}}", "'${env:A, 'a,b'}'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		root, problems := resolveValue(value)
		for _, p := range problems {
			if !knownCodes[p.Code] || p.Msg == "" {
				t.Fatalf("resolve(%q): problem %v has unknown code or no message", value, p)
			}
		}
		a := mapGet(mapGet(root, "custom"), "a")
		if !strings.Contains(value, "${") && (a.Kind != yaml.ScalarNode || a.Value != value) {
			t.Fatalf("resolve(%q) = %q, want it unchanged", value, a.Value)
		}
		root2, problems2 := resolveValue(value)
		if !reflect.DeepEqual(toAny(root), toAny(root2)) || len(problems) != len(problems2) {
			t.Fatalf("resolve(%q) is not deterministic", value)
		}
		if len(problems) == 0 {
			b := mapGet(mapGet(root, "custom"), "b")
			if !reflect.DeepEqual(toAny(a), toAny(b)) {
				t.Fatalf("resolve(%q): ${self:custom.a} = %v, want %v", value, toAny(b), toAny(a))
			}
		}
	})
}

func TestParseTemplate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []part
	}{
		{"plain", []part{{lit: "plain"}}},
		{"${a}", []part{{body: "a", isVar: true}}},
		{"x${a:${b}}y", []part{{lit: "x"}, {body: "a:${b}", isVar: true}, {lit: "y"}}},
		{`\${a}`, []part{{lit: "${a}"}}},
		{"${a, '}'}", []part{{body: "a, '}'", isVar: true}}},
	} {
		got, err := parseTemplate(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseTemplate(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"${a", "${a, 'b}", "${${a}"} {
		if _, err := parseTemplate(bad); err == nil {
			t.Errorf("parseTemplate(%q) succeeded, want a syntax error", bad)
		}
	}
}
