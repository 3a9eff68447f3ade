package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// opSymbols are the plan symbols, as pulumi preview prints them.
var opSymbols = map[string]string{OpCreate: "+", OpUpdate: "~", OpReplace: "+-", OpDelete: "-", OpSame: ""}

// maxInfoPaths is how many changed paths a plan line lists; the tree below
// it lists them all.
const maxInfoPaths = 4

var diffSymbols = map[string]string{DiffAdd: "+", DiffUpdate: "~", DiffDelete: "-"}

// RenderText writes the plan as a readable tree: one line per function
// with its symbol and operation, its property changes under it, then the
// warnings, the refusals and a summary line.
func RenderText(w io.Writer, p *Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Service %s · stage %s · region %s\n\n", p.Service, p.Stage, p.Region)
	tw := tabwriter.NewWriter(&b, 0, 0, 3, ' ', 0)
	fmt.Fprintf(tw, " \tType\tName\tPlan\tInfo\n")
	for _, s := range p.Steps {
		op := s.Op
		if op == OpSame {
			op = "unchanged"
		}
		fmt.Fprintf(tw, " %s\t%s\t%s\t%s\t%s\n", opSymbols[s.Op], s.Kind, s.Name, op, stepInfo(&s))
	}
	tw.Flush()
	for _, s := range p.Steps {
		if s.Op != OpUpdate && s.Op != OpReplace {
			continue
		}
		fmt.Fprintf(&b, "\n %s %s\n", opSymbols[s.Op], s.Name)
		for _, d := range s.Diffs {
			fmt.Fprintf(&b, "     %s %s\n", diffSymbols[d.Kind], diffLine(d))
		}
		switch {
		case s.Code == nil:
		case s.Code.Status == CodeChanged:
			fmt.Fprintf(&b, "     ~ code: %s → %s (%s)\n", shortSHA(s.Code.Old), shortSHA(s.Code.New), size(s.Code.Size))
		case s.Op == OpReplace:
			fmt.Fprintf(&b, "     + code: %s uploaded again (%s)\n", shortSHA(s.Code.New), size(s.Code.Size))
		}
	}
	if len(p.Warnings) > 0 {
		b.WriteString("\nWarnings:\n")
		for _, m := range p.Warnings {
			fmt.Fprintf(&b, "  ! %s\n", m)
		}
	}
	if len(p.Refusals) > 0 {
		b.WriteString("\nCannot deploy (nothing will be changed):\n")
		for _, m := range p.Refusals {
			fmt.Fprintf(&b, "  ✗ %s\n", m)
		}
	}
	s := p.Summary
	fmt.Fprintf(&b, "\nPlan: %d to create, %d to update, %d to replace, %d to delete, %d unchanged · upload %s\n",
		s.Create, s.Update, s.Replace, s.Delete, s.Same, size(s.UploadBytes))
	return writeTrimmed(w, b.String())
}

// writeTrimmed writes s without the trailing spaces tabwriter leaves.
func writeTrimmed(w io.Writer, s string) error {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n"))
	return err
}

// stepInfo is the bracketed detail of a plan line.
func stepInfo(s *Step) string {
	var parts []string
	switch s.Op {
	case OpReplace:
		parts = append(parts, "replace: "+strings.Join(s.ReplaceReasons, ", "))
	case OpUpdate:
		var paths []string
		for i, d := range s.Diffs {
			if i == maxInfoPaths {
				paths = append(paths, fmt.Sprintf("(+%d more)", len(s.Diffs)-i))
				break
			}
			paths = append(paths, diffSymbols[d.Kind]+d.Path)
		}
		if len(paths) > 0 {
			parts = append(parts, "diff: "+strings.Join(paths, " "))
		}
	}
	if s.Code != nil {
		switch s.Code.Status {
		case CodeNew:
			parts = append(parts, "code: new "+shortSHA(s.Code.New)+" "+size(s.Code.Size))
		case CodeChanged:
			parts = append(parts, "code: changed")
		case CodeUnchanged:
			parts = append(parts, "code: unchanged "+shortSHA(s.Code.New))
		}
	}
	if s.Publish {
		parts = append(parts, "publish version")
	}
	if len(parts) == 0 {
		return ""
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func diffLine(d Diff) string {
	if d.Sensitive {
		switch d.Kind {
		case DiffAdd:
			return d.Path + ": (value hidden)"
		case DiffDelete:
			return d.Path
		}
		return d.Path + ": (value hidden) changed"
	}
	switch d.Kind {
	case DiffAdd:
		return fmt.Sprintf("%s: %s", d.Path, quoteIfNeeded(d.New))
	case DiffDelete:
		return fmt.Sprintf("%s: %s", d.Path, quoteIfNeeded(d.Old))
	}
	return fmt.Sprintf("%s: %s → %s", d.Path, quoteIfNeeded(d.Old), quoteIfNeeded(d.New))
}

func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// shortSHA shortens a base64 CodeSha256 for display.
func shortSHA(s string) string {
	if s == "" {
		return "none"
	}
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}

// size formats a byte count.
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// RenderJSON writes the plan's stable JSON form, indented:
//
//	{"schemaVersion": 1, "service", "stage", "region",
//	 "steps": [{"op": create|update|replace|delete|same, "kind": function|layer,
//	            "key", "name",
//	            "diffs": [{"path", "kind": add|update|delete, "old", "new", "sensitive"}],
//	            "replaceReasons": [...],
//	            "code": {"status": new|changed|unchanged, "old", "new", "size"},
//	            "publish": bool}],
//	 "summary": {"create", "update", "replace", "delete", "same", "uploadBytes"},
//	 "warnings": [...], "refusals": [...]}
//
// Empty members are omitted; sensitive diffs (environment variables) never
// carry values. New members may be added; none changes meaning without a
// new schemaVersion.
func RenderJSON(w io.Writer, p *Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(p)
}

// Info is what `lambdad info` shows about a deployed service.
type Info struct {
	Service   string         `json:"service"`
	Stage     string         `json:"stage"`
	Region    string         `json:"region"`
	Endpoint  string         `json:"endpoint"`
	Functions []FunctionInfo `json:"functions"`
	// Layers are the latest published versions of the service's layers
	// (known only from the service file).
	Layers []LayerInfo `json:"layers,omitempty"`
}

// LayerInfo is the latest version of one layer of a service.
type LayerInfo struct {
	Name     string `json:"name"`
	Version  int64  `json:"version"`
	ARN      string `json:"arn"`
	CodeSize int64  `json:"codeSize"`
}

// FunctionInfo is one deployed function of a service.
type FunctionInfo struct {
	Key        string `json:"key,omitempty"` // manifest key, when known
	Name       string `json:"name"`
	State      string `json:"state"`
	LastUpdate string `json:"lastUpdateStatus,omitempty"`
	// Version is the latest published version, else $LATEST.
	Version      string `json:"version"`
	Runtime      string `json:"runtime"`
	MemorySize   int    `json:"memorySize"`
	Timeout      int    `json:"timeout"`
	CodeSize     int64  `json:"codeSize"`
	LastModified string `json:"lastModified"`
}

// NewInfo describes the functions of st deployed for service and stage;
// keys maps deployed names to manifest keys (may be nil).
func NewInfo(st *State, service, stage, region, endpoint string, keys map[string]string) *Info {
	in := &Info{Service: service, Stage: stage, Region: region, Endpoint: endpoint, Functions: []FunctionInfo{}}
	for _, f := range st.Owned(service, stage) {
		c := f.Configuration
		version := c.Version
		if f.LatestVersion != "" {
			version = f.LatestVersion
		}
		in.Functions = append(in.Functions, FunctionInfo{
			Key: keys[c.FunctionName], Name: c.FunctionName, State: c.State, LastUpdate: c.LastUpdateStatus,
			Version: version, Runtime: c.Runtime, MemorySize: c.MemorySize, Timeout: c.Timeout,
			CodeSize: c.CodeSize, LastModified: c.LastModified,
		})
	}
	for _, l := range st.Layers {
		li := LayerInfo{Name: l.Name, Version: l.Latest.Version, ARN: l.Latest.LayerVersionArn}
		if l.Latest.Content != nil {
			li.CodeSize = l.Latest.Content.CodeSize
		}
		in.Layers = append(in.Layers, li)
	}
	return in
}

// RenderInfo writes the service info as a table.
func RenderInfo(w io.Writer, in *Info) error {
	var b strings.Builder
	fmt.Fprintf(&b, "service: %s\nstage: %s\nregion: %s\nendpoint: %s\n", in.Service, in.Stage, in.Region, in.Endpoint)
	if len(in.Functions) == 0 {
		b.WriteString("functions: none deployed\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("functions:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  KEY\tNAME\tSTATE\tVERSION\tRUNTIME\tMEMORY\tTIMEOUT\tCODE\tLAST MODIFIED\n")
	for _, f := range in.Functions {
		key := f.Key
		if key == "" {
			key = "-"
		}
		state := f.State
		if f.LastUpdate != "" && f.LastUpdate != "Successful" {
			state += " (update " + f.LastUpdate + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%d MB\t%ds\t%s\t%s\n", key, f.Name, state, f.Version, f.Runtime, f.MemorySize, f.Timeout, size(f.CodeSize), f.LastModified)
	}
	tw.Flush()
	if len(in.Layers) > 0 {
		b.WriteString("layers:\n")
		for _, l := range in.Layers {
			fmt.Fprintf(&b, "  %s: version %d, %s (%s)\n", l.Name, l.Version, size(l.CodeSize), l.ARN)
		}
	}
	return writeTrimmed(w, b.String())
}
