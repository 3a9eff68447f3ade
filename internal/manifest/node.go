package manifest

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// YAML tags of resolved scalars.
const (
	tagStr   = "!!str"
	tagInt   = "!!int"
	tagFloat = "!!float"
	tagBool  = "!!bool"
	tagNull  = "!!null"
	tagMap   = "!!map"
	tagSeq   = "!!seq"
)

// maxExpandedNodes bounds the nodes alias expansion may create, against
// "billion laughs" documents.
const maxExpandedNodes = 1_000_000

// expandAliases replaces alias nodes by copies of their anchors and applies
// merge keys (`<<: *base`, `<<: [*a, *b]`), so later passes see a plain tree.
func expandAliases(n *yaml.Node, depth int) error {
	budget := maxExpandedNodes
	return expand(n, depth, &budget)
}

func expand(n *yaml.Node, depth int, budget *int) error {
	if depth > 256 {
		return fmt.Errorf("line %d: document nested too deeply", n.Line)
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return fmt.Errorf("line %d: unknown alias", n.Line)
		}
		*budget -= countNodes(n.Alias)
		if *budget < 0 {
			return fmt.Errorf("line %d: aliases expand to more than %d nodes", n.Line, maxExpandedNodes)
		}
		line, col := n.Line, n.Column
		*n = *deepCopy(n.Alias)
		n.Anchor = ""
		n.Line, n.Column = line, col
		return expand(n, depth+1, budget)
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if err := expand(c, depth+1, budget); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for _, c := range n.Content {
			if err := expand(c, depth+1, budget); err != nil {
				return err
			}
		}
		return applyMergeKeys(n)
	}
	return nil
}

func countNodes(n *yaml.Node) int {
	c := 1
	for _, x := range n.Content {
		c += countNodes(x)
	}
	return c
}

// applyMergeKeys folds `<<` entries of mapping n into it; keys written in n
// win over merged ones, earlier merge sources win over later ones.
func applyMergeKeys(n *yaml.Node) error {
	var own, merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value != "<<" || k.Tag != "!!merge" && k.Style != 0 {
			own = append(own, k, v)
			continue
		}
		var srcs []*yaml.Node
		switch v.Kind {
		case yaml.MappingNode:
			srcs = []*yaml.Node{v}
		case yaml.SequenceNode:
			srcs = v.Content
		default:
			return fmt.Errorf("line %d: merge key << needs a mapping or a list of mappings", k.Line)
		}
		for _, s := range srcs {
			if s.Kind != yaml.MappingNode {
				return fmt.Errorf("line %d: merge key << needs a mapping or a list of mappings", s.Line)
			}
			merged = append(merged, s.Content...)
		}
	}
	if merged == nil {
		return nil
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(own); i += 2 {
		seen[own[i].Value] = true
	}
	out := own
	for i := 0; i+1 < len(merged); i += 2 {
		if seen[merged[i].Value] {
			continue
		}
		seen[merged[i].Value] = true
		out = append(out, merged[i], merged[i+1])
	}
	n.Content = out
	return nil
}

// deepCopy copies a node tree.
func deepCopy(n *yaml.Node) *yaml.Node {
	c := *n
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, x := range n.Content {
			c.Content[i] = deepCopy(x)
		}
	}
	return &c
}

// mapGet returns the value of key in mapping n, or nil.
func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// isNull reports whether n is absent or an explicit null.
func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == tagNull
}

// scalarNode builds a scalar node with the given tag at a position.
func scalarNode(tag, value string, line, col int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value, Line: line, Column: col}
}

// toAny converts a node to plain Go values (map[string]any, []any, string,
// int64, float64, bool, nil) for free-form fields such as filter patterns.
func toAny(n *yaml.Node) any {
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = toAny(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			s = append(s, toAny(c))
		}
		return s
	case yaml.ScalarNode:
		switch n.Tag {
		case tagNull:
			return nil
		case tagBool:
			b, err := strconv.ParseBool(strings.ToLower(n.Value))
			if err == nil {
				return b
			}
		case tagInt:
			if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
				return i
			}
		case tagFloat:
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f
			}
		}
		return n.Value
	}
	return nil
}

// kindName names a node's type for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "object"
	case yaml.SequenceNode:
		return "array"
	case yaml.ScalarNode:
		switch n.Tag {
		case tagNull:
			return "null"
		case tagBool:
			return "boolean"
		case tagInt, tagFloat:
			return "number"
		}
		return "string"
	}
	return "value"
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
